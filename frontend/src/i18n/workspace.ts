// Texts of the app shell and the workspace pages (contacts, templates, channels, integrations,
// teams, assistants, settings). pt-BR is the reference; `workspaceEn` must have every key.
export const workspacePtBR = {
  "nav.runs": "Execuções",
  "nav.dashboard": "Painel",
  "nav.contacts": "Contatos",
  "nav.templates": "Templates",
  "nav.channels": "Canais",
  "nav.integrations": "Integrações",
  "nav.teams": "Equipes",
  "nav.assistants": "Assistentes",
  "nav.settings": "Configurações",

  "shell.navigation": "Navegação principal",
  "shell.group.automation": "Automação",
  "shell.group.audience": "Clientes",
  "shell.group.setup": "Configuração",
  "shell.collapse": "Recolher menu",
  "shell.expand": "Expandir menu",
  "shell.sandbox": "Celular de teste",
  "shell.apiDocs": "Documentação da API",
  "shell.admin": "Administração",
  "shell.placeholder": "Esta área está sendo preparada e aparece aqui em breve.",
  "shell.forbidden": "Seu papel não dá acesso a esta página. Peça a um administrador.",

  "role.viewer": "Leitura",
  "role.editor": "Edição",
  "role.admin": "Administrador",
} as const;

export type WorkspaceKey = keyof typeof workspacePtBR;

export const workspaceEn: Record<WorkspaceKey, string> = {
  "nav.runs": "Runs",
  "nav.dashboard": "Dashboard",
  "nav.contacts": "Contacts",
  "nav.templates": "Templates",
  "nav.channels": "Channels",
  "nav.integrations": "Integrations",
  "nav.teams": "Teams",
  "nav.assistants": "Assistants",
  "nav.settings": "Settings",

  "shell.navigation": "Main navigation",
  "shell.group.automation": "Automation",
  "shell.group.audience": "Customers",
  "shell.group.setup": "Setup",
  "shell.collapse": "Collapse menu",
  "shell.expand": "Expand menu",
  "shell.sandbox": "Sandbox phone",
  "shell.apiDocs": "API docs",
  "shell.admin": "Admin",
  "shell.placeholder": "This area is being prepared and shows up here soon.",
  "shell.forbidden": "Your role does not give access to this page. Ask an administrator.",

  "role.viewer": "Viewer",
  "role.editor": "Editor",
  "role.admin": "Admin",
};

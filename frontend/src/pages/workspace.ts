// The workspace pages (contacts, templates, channels, integrations, teams, assistants, settings),
// one folder per area under pages/<area>/. routes.tsx loads this lazily, as one chunk.
import "./workspace.css";

export { AssistantPage, AssistantsPage } from "./assistants/AssistantsPage";
export { ChannelConnectPage } from "./channels/ChannelConnectPage";
export { ChannelPage } from "./channels/ChannelPage";
export { ChannelsPage } from "./channels/ChannelsPage";
export { ContactImportPage } from "./contacts/ContactImportPage";
export { ContactPage } from "./contacts/ContactPage";
export { ContactsPage } from "./contacts/ContactsPage";
export { MediaPage } from "./media/MediaPage";
export { IntegrationsPage } from "./integrations/IntegrationsPage";
export { SettingsPage } from "./settings/SettingsPage";
export { TeamsPage } from "./teams/TeamsPage";
export { TemplatesPage } from "./templates/TemplatesPage";

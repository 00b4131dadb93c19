// The workspace pages (contacts, templates, channels, integrations, teams, assistants, settings),
// one module per area under pages/<area>/. routes.tsx loads this lazily, as one chunk.
import PlaceholderPage from "./PlaceholderPage";

export const ContactsPage = () => PlaceholderPage({ title: "nav.contacts" });
export const ContactPage = () => PlaceholderPage({ title: "nav.contacts" });
export const ContactImportPage = () => PlaceholderPage({ title: "nav.contacts" });
export const TemplatesPage = () => PlaceholderPage({ title: "nav.templates" });
export const ChannelsPage = () => PlaceholderPage({ title: "nav.channels" });
export const ChannelPage = () => PlaceholderPage({ title: "nav.channels" });
export const ChannelConnectPage = () => PlaceholderPage({ title: "nav.channels" });
export const IntegrationsPage = () => PlaceholderPage({ title: "nav.integrations" });
export const TeamsPage = () => PlaceholderPage({ title: "nav.teams" });
export const AssistantsPage = () => PlaceholderPage({ title: "nav.assistants" });
export const AssistantPage = () => PlaceholderPage({ title: "nav.assistants" });
export const SettingsPage = () => PlaceholderPage({ title: "nav.settings" });

// The route table: the ONE place where a page registers its URL, the role it needs and its entry
// in the navigation. To add a page: write it under pages/<area>/, add one entry below (lazy import,
// so its code loads only when opened), and add the first path segment to SPA_PREFIXES in
// flows/spa.py (tests/e2e/test_spa_shell.py checks that the server serves every route here).
import { lazy, type ComponentType, type LazyExoticComponent } from "react";
import type { Role, User } from "./api/types";
import type { MessageKey } from "./i18n";
import { FlowListPage } from "./pages/FlowListPage";
import PlaceholderPage from "./pages/PlaceholderPage";
import { matchPattern, type Params } from "./router";

export interface PageProps {
  user: User;
  params: Params;
}

export type NavGroup = "automation" | "audience" | "setup";

export interface NavEntry {
  label: MessageKey;
  icon: string;
  group: NavGroup;
  /** Position inside its group (gaps leave room for pages added later). */
  order: number;
}

export interface PageRoute {
  id: string;
  /** "/contacts/#id": ":name" matches any segment, "#name" digits only. */
  path: string;
  page: LazyExoticComponent<ComponentType<PageProps>> | ComponentType<PageProps>;
  /** The least role that may open the page (default: viewer). The API checks the same. */
  role?: Role;
  nav?: NavEntry;
  /** Full-height pages (the editor) get no page padding. */
  fullBleed?: boolean;
  /** Fetches the page's code ahead (used when the URL is opened directly). */
  preload?: () => Promise<unknown>;
}

/** A page another part of the app fills in later: the link already exists in the navigation. */
export function placeholder(title: MessageKey): ComponentType<PageProps> {
  return function Placeholder() {
    return <PlaceholderPage title={title} />;
  };
}

const loadEditor = () => import("./editor/EditorPage");
const loadRunView = () => import("./pages/runs/RunViewPage");
const loadRuns = () => import("./pages/runs/RunsPage");
const loadDashboard = () => import("./pages/dashboard/DashboardPage");
const loadWorkspace = () => import("./pages/workspace");
const loadCampaigns = () => import("./pages/campaigns");

/** A page component from a lazily loaded module, by export name. */
function lazyPage<M>(load: () => Promise<M>, pick: (module: M) => ComponentType<PageProps>) {
  return lazy(() => load().then((module) => ({ default: pick(module) })));
}

export const ROUTES: PageRoute[] = [
  {
    id: "flows",
    path: "/flows",
    // The landing page after login: in the first bundle, not a lazy chunk.
    page: ({ user }: PageProps) => <FlowListPage user={user} />,
    nav: { label: "nav.flows", icon: "↪", group: "automation", order: 10 },
  },
  {
    id: "editor",
    path: "/flows/#flowId",
    page: lazyPage(loadEditor, (m) => ({ user, params }: PageProps) => <m.EditorPage flowId={Number(params.flowId)} user={user} />),
    fullBleed: true,
    preload: loadEditor,
  },
  {
    id: "runs",
    path: "/runs",
    page: lazyPage(loadRuns, (m) => ({ user }: PageProps) => <m.RunsPage key={window.location.search} user={user} />),
    nav: { label: "nav.runs", icon: "▶", group: "automation", order: 20 },
  },
  {
    id: "run",
    path: "/runs/#runId",
    // The run on its flow's canvas (the editor's code): full height like the editor.
    page: lazyPage(loadRunView, (m) => ({ user, params }: PageProps) => <m.RunViewPage key={params.runId} runId={Number(params.runId)} user={user} />),
    fullBleed: true,
    preload: loadRunView,
  },
  {
    id: "dashboard",
    path: "/dashboard",
    page: lazyPage(loadDashboard, (m) => () => <m.DashboardPage />),
    nav: { label: "nav.dashboard", icon: "▦", group: "automation", order: 30 },
  },

  {
    id: "contacts",
    path: "/contacts",
    page: lazyPage(loadWorkspace, (m) => m.ContactsPage),
    nav: { label: "nav.contacts", icon: "☺", group: "audience", order: 10 },
  },
  { id: "contact", path: "/contacts/#id", page: lazyPage(loadWorkspace, (m) => m.ContactPage) },
  { id: "contactsImport", path: "/contacts/import", page: lazyPage(loadWorkspace, (m) => m.ContactImportPage), role: "editor" },
  {
    id: "templates",
    path: "/templates",
    page: lazyPage(loadWorkspace, (m) => m.TemplatesPage),
    nav: { label: "nav.templates", icon: "✎", group: "audience", order: 20 },
  },
  {
    id: "media",
    path: "/media",
    page: lazyPage(loadWorkspace, (m) => m.MediaPage),
    nav: { label: "nav.media", icon: "▣", group: "audience", order: 25 },
  },

  {
    id: "segments",
    path: "/segments",
    page: lazyPage(loadCampaigns, (m) => m.SegmentsPage),
    nav: { label: "nav.segments", icon: "◎", group: "audience", order: 30 },
  },
  {
    id: "campaigns",
    path: "/campaigns",
    page: lazyPage(loadCampaigns, (m) => m.CampaignsPage),
    nav: { label: "nav.campaigns", icon: "✉", group: "audience", order: 40 },
  },
  { id: "campaignNew", path: "/campaigns/new", page: lazyPage(loadCampaigns, (m) => m.CampaignWizardPage), role: "editor" },
  { id: "campaign", path: "/campaigns/#id", page: lazyPage(loadCampaigns, (m) => m.CampaignPage) },

  {
    id: "channels",
    path: "/channels",
    page: lazyPage(loadWorkspace, (m) => m.ChannelsPage),
    role: "admin",
    nav: { label: "nav.channels", icon: "✆", group: "setup", order: 10 },
  },
  { id: "channel", path: "/channels/#id", page: lazyPage(loadWorkspace, (m) => m.ChannelPage), role: "admin" },
  { id: "channelNew", path: "/channels/new", page: lazyPage(loadWorkspace, (m) => m.ChannelConnectPage), role: "admin" },
  {
    id: "integrations",
    path: "/integrations",
    page: lazyPage(loadWorkspace, (m) => m.IntegrationsPage),
    role: "admin",
    nav: { label: "nav.integrations", icon: "⇄", group: "setup", order: 20 },
  },
  {
    id: "teams",
    path: "/teams",
    page: lazyPage(loadWorkspace, (m) => m.TeamsPage),
    nav: { label: "nav.teams", icon: "☎", group: "setup", order: 30 },
  },
  {
    id: "assistants",
    path: "/assistants",
    page: lazyPage(loadWorkspace, (m) => m.AssistantsPage),
    nav: { label: "nav.assistants", icon: "✦", group: "setup", order: 40 },
  },
  { id: "assistant", path: "/assistants/#id", page: lazyPage(loadWorkspace, (m) => m.AssistantPage) },
  {
    id: "settings",
    path: "/settings",
    page: lazyPage(loadWorkspace, (m) => m.SettingsPage),
    nav: { label: "nav.settings", icon: "⚙", group: "setup", order: 90 },
  },
];

export interface Matched {
  route: PageRoute;
  params: Params;
}

/** The route for a path ("/" is the flow list); null when nothing matches. */
export function matchRoute(path: string): Matched | null {
  const target = path.replace(/\/+$/, "") || "/";
  if (target === "/") return { route: ROUTES[0], params: {} };
  for (const route of ROUTES) {
    const params = matchPattern(route.path, target);
    if (params) return { route, params };
  }
  return null;
}

export const NAV_GROUPS: NavGroup[] = ["automation", "audience", "setup"];

export function hasRole(user: User, role: Role | undefined): boolean {
  return !role || user.roles.includes(role);
}

/** The navigation for this user: entries of the routes they may open, by group and order. */
export function navFor(user: User): { group: NavGroup; entries: (NavEntry & { path: string; id: string })[] }[] {
  return NAV_GROUPS.map((group) => ({
    group,
    entries: ROUTES.filter((route) => route.nav?.group === group && hasRole(user, route.role))
      .map((route) => ({ ...route.nav!, path: route.path, id: route.id }))
      .sort((a, b) => a.order - b.order),
  })).filter((section) => section.entries.length > 0);
}

/** The nav entry a path belongs to (the contact page lights "Contatos"). */
export function activeNavId(path: string): string | null {
  const matched = matchRoute(path);
  if (!matched) return null;
  if (matched.route.nav) return matched.route.id;
  const first = "/" + (path.split("/")[1] ?? "");
  return ROUTES.find((route) => route.nav && route.path === first)?.id ?? null;
}

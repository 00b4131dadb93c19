// Node icons by the backend's icon name. Plain symbols keep the bundle free of an icon library.
const ICONS: Record<string, string> = {
  zap: "⚡",
  clock: "⏱",
  "git-branch": "⑂",
  "file-text": "📄",
  "message-circle": "💬",
  "message-square-dashed": "⌛",
  bot: "🤖",
  sparkles: "✨",
  variable: "𝑥",
  "square-stop": "■",
  flag: "⚑",
  globe: "🌐",
  users: "👥",
  tag: "🏷",
  bell: "🔔",
  workflow: "↪",
};

export function iconFor(name: string | undefined): string {
  return (name && ICONS[name]) || "●";
}

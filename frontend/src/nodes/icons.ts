// Node icons by the backend's icon name. Plain symbols from common fonts (DejaVu and system UI
// fonts all carry them) keep the bundle free of an icon library and render on any machine.
const ICONS: Record<string, string> = {
  zap: "⚡",
  clock: "◷",
  "git-branch": "◇",
  "file-text": "✎",
  "message-circle": "✉",
  "message-square-dashed": "↩",
  sparkles: "✦",
  variable: "𝑥",
  square: "■",
  "square-stop": "■",
  flag: "⚑",
  globe: "⇄",
  users: "☎",
  bell: "♪",
  workflow: "↪",
};

export function iconFor(name: string | undefined): string {
  return (name && ICONS[name]) || "●";
}

// A page whose link exists in the navigation while its screen is being built elsewhere.
import { useT, type MessageKey } from "../i18n";

export default function PlaceholderPage({ title }: { title: MessageKey }) {
  const { t } = useT();
  return (
    <div className="page" data-testid="placeholder-page">
      <header className="page-header">
        <h1>{t(title)}</h1>
      </header>
      <div className="empty-state">
        <p>{t("shell.placeholder")}</p>
      </div>
    </div>
  );
}

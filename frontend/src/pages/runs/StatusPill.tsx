import { useT } from "../../i18n";

export function RunStatusPill({ status }: { status: string }) {
  const { tOptional } = useT();
  return (
    <span className={`pill run-${status}`} data-testid="run-status" data-status={status}>
      {tOptional(`runStatus.${status}`) ?? status}
    </span>
  );
}

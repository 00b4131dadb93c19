// What each step shows on the canvas under its title: a one-glance summary of its config.
import type { Config } from "../api/types";
import { useT } from "../i18n";
import { isDuration } from "../forms/DurationInput";

export interface BodyProps {
  config: Config;
}

function truncate(text: string, length = 80): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

export function useDurationText() {
  const { t } = useT();
  return (value: unknown) =>
    isDuration(value) ? `${value.value} ${value.value === 1 ? t(`unitOne.${value.unit}`) : t(`unit.${value.unit}`)}` : "";
}

export function TriggerBody({ config }: BodyProps) {
  const { tOptional } = useT();
  const event = String(config.event ?? "message");
  const detail =
    event === "external"
      ? String(config.event_name ?? "")
      : config.match === "keyword"
        ? ((config.keywords as string[]) ?? []).join(", ")
        : config.match === "regex"
          ? String(config.pattern ?? "")
          : "";
  return (
    <p>
      {tOptional(`enum.event.${event}`) ?? event}
      {detail && <code> {truncate(detail, 40)}</code>}
    </p>
  );
}

export function DelayBody({ config }: BodyProps) {
  const { t } = useT();
  const durationText = useDurationText();
  const mode = String(config.mode ?? "duration");
  if (mode === "duration") return <p>{durationText(config.duration) || "—"}</p>;
  if (mode === "time_of_day") return <p>{t("delay.untilTime", { time: String(config.time ?? "—") })}</p>;
  if (mode === "expression") return <p><code>{truncate(String(config.expression ?? ""), 40)}</code></p>;
  return <p>{t("delay.mode.business_hours")}</p>;
}

export function BranchBody({ config }: BodyProps) {
  const { t } = useT();
  return config.mode === "random" ? <p>{t("branch.modeRandom")}</p> : null;
}

export function SendTemplateBody({ config }: BodyProps) {
  const { t } = useT();
  return <p>{config.template ? <code>{String(config.template)}</code> : <em>{t("template.none")}</em>}</p>;
}

export function SendMessageBody({ config }: BodyProps) {
  const text = String(config.text ?? "");
  const buttons = Array.isArray(config.buttons) ? (config.buttons as { title?: string }[]) : [];
  return (
    <>
      <p className="message-preview">{truncate(text) || "—"}</p>
      {buttons.length > 0 && <p className="chips">{buttons.map((button) => `[${button.title ?? ""}]`).join(" ")}</p>}
    </>
  );
}

export function WaitForReplyBody({ config }: BodyProps) {
  const { t } = useT();
  const durationText = useDurationText();
  return <p>{config.timeout ? t("wait.upTo", { duration: durationText(config.timeout) }) : t("wait.forever")}</p>;
}

/** For types without their own body: the first short text value of the config. */
export function GenericBody({ config }: BodyProps) {
  const first = Object.values(config).find((value) => typeof value === "string" && value.trim());
  return first ? <p>{truncate(String(first), 60)}</p> : null;
}

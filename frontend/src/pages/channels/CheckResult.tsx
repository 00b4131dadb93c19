// The answer of the token check against the Graph API, in words a person can act on.
import type { GraphCheck } from "../../api/workspace";
import { useT, type MessageKey } from "../../i18n";
import { Pill } from "../ui";

const QUALITY: Record<string, { tone: "ok" | "warn" | "bad"; key: MessageKey }> = {
  GREEN: { tone: "ok", key: "ws.quality.GREEN" },
  YELLOW: { tone: "warn", key: "ws.quality.YELLOW" },
  RED: { tone: "bad", key: "ws.quality.RED" },
};

export function QualityPill({ rating }: { rating?: string }) {
  const { t } = useT();
  const known = rating ? QUALITY[rating] : undefined;
  if (!known) return <Pill>{t("ws.quality.unknown")}</Pill>;
  return (
    <Pill tone={known.tone} testId="quality">
      {t(known.key)}
    </Pill>
  );
}

export function tierLabel(t: (key: MessageKey, params?: Record<string, string | number>) => string, tier: string | undefined, language: string): string {
  if (!tier) return t("ws.quality.unknown");
  if (tier === "TIER_UNLIMITED") return t("ws.tier.unlimited");
  const match = /^TIER_(\d+)(K?)$/.exec(tier);
  if (!match) return tier;
  const count = Number(match[1]) * (match[2] ? 1000 : 1);
  return t("ws.tier.count", { n: count.toLocaleString(language === "en" ? "en-US" : "pt-BR") });
}

export function CheckResult({ check }: { check: GraphCheck }) {
  const { t, language } = useT();
  if (!check.ok) {
    return (
      <div className="check-result bad" role="alert" data-testid="check-result" data-ok="false">
        <strong>✗ {t("ws.check.failed")}</strong>
        <p>{check.error}</p>
        {check.code === "190" && <p className="hint">{t("ws.check.tokenHint")}</p>}
        {check.code === "100" && <p className="hint">{t("ws.check.idHint")}</p>}
      </div>
    );
  }
  return (
    <div className="check-result ok" data-testid="check-result" data-ok="true">
      <strong>✓ {t("ws.check.ok")}</strong>
      <dl className="facts">
        <dt>{t("ws.check.verifiedName")}</dt>
        <dd>{check.info.verified_name || "—"}</dd>
        <dt>{t("ws.channels.number")}</dt>
        <dd>{check.info.display_phone_number || "—"}</dd>
        <dt>{t("ws.check.quality")}</dt>
        <dd>
          <QualityPill rating={check.info.quality_rating} />
        </dd>
        <dt>{t("ws.check.limit")}</dt>
        <dd>{tierLabel(t, check.info.messaging_limit_tier, language)}</dd>
      </dl>
    </div>
  );
}

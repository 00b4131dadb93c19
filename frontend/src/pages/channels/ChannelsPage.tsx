// Channels: the numbers Fluxo sends from. Admins only (the API refuses everyone else).
import { ws, type ChannelSummary } from "../../api/workspace";
import { useT } from "../../i18n";
import { Link } from "../../router";
import type { PageProps } from "../../routes";
import { ErrorNote, PageHeader, Pill, useLoad } from "../ui";

export function channelState(channel: Pick<ChannelSummary, "paused" | "is_active">): { tone: "ok" | "warn" | "bad"; key: "ws.channel.active" | "ws.channel.paused" | "ws.channel.inactive" } {
  if (channel.paused) return { tone: "bad", key: "ws.channel.paused" };
  if (!channel.is_active) return { tone: "warn", key: "ws.channel.inactive" };
  return { tone: "ok", key: "ws.channel.active" };
}

export function ChannelsPage(_props: PageProps) {
  const { t } = useT();
  const { data: channels, error } = useLoad(() => ws.channels());
  return (
    <div className="page" data-testid="channels-page">
      <PageHeader title={t("nav.channels")} subtitle={t("ws.channels.subtitle")}>
        <Link to="/channels/new" className="button primary" data-testid="connect-channel">
          + {t("ws.channels.connect")}
        </Link>
      </PageHeader>
      <ErrorNote error={error} />
      {channels === null ? (
        <p className="muted">{t("common.loading")}</p>
      ) : channels.length === 0 ? (
        <div className="empty-state">{t("ws.channels.empty")}</div>
      ) : (
        <table className="data-table" data-testid="channel-table">
          <thead>
            <tr>
              <th>{t("ws.name")}</th>
              <th>{t("ws.channels.kind")}</th>
              <th>{t("ws.channels.number")}</th>
              <th>{t("ws.state")}</th>
            </tr>
          </thead>
          <tbody>
            {channels.map((channel) => {
              const state = channelState(channel);
              return (
                <tr key={channel.id} data-testid="channel-row">
                  <td>
                    <Link to={`/channels/${channel.id}`}>{channel.name}</Link>
                  </td>
                  <td>{t(channel.kind === "sandbox" ? "ws.channels.sandbox" : "ws.channels.cloud")}</td>
                  <td>{channel.display_phone_number || channel.phone_number_id || "—"}</td>
                  <td>
                    <Pill tone={state.tone}>{t(state.key)}</Pill>
                    {channel.paused && <div className="muted small">{channel.pause_reason}</div>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}

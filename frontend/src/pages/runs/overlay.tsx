// Extra marks drawn on the editor's step cards by the run view and the path counts: a badge under
// the title and a figure per output port. The editor's StepCard renders these two slots; without
// a provider they draw nothing, so the editor itself is unchanged.
import { createContext, useContext, type ReactNode } from "react";

export interface NodeOverlay {
  badge?: ReactNode;
  ports?: Record<string, ReactNode>;
}

export const CanvasOverlayContext = createContext<Record<string, NodeOverlay> | null>(null);

export function StepOverlay({ nodeId }: { nodeId: string }) {
  const badge = useContext(CanvasOverlayContext)?.[nodeId]?.badge;
  return badge ? (
    <div className="node-overlay" data-testid={`overlay-${nodeId}`}>
      {badge}
    </div>
  ) : null;
}

export function PortOverlay({ nodeId, port }: { nodeId: string; port: string }) {
  const figure = useContext(CanvasOverlayContext)?.[nodeId]?.ports?.[port];
  return figure !== undefined && figure !== null ? (
    <span className="port-count" data-testid={`port-count-${nodeId}-${port}`}>
      {figure}
    </span>
  ) : null;
}

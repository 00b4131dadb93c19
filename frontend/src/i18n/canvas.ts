// React Flow's own labels (zoom buttons, mini map, keyboard help) in the UI's language.
import type { AriaLabelConfig } from "@xyflow/react";
import { useLanguage } from ".";

const LABELS: Record<"pt-BR" | "en", Partial<AriaLabelConfig>> = {
  "pt-BR": {
    "node.a11yDescription.default": "Pressione Enter ou espaço para selecionar um bloco. Delete o remove e Esc cancela.",
    "node.a11yDescription.keyboardDisabled":
      "Pressione Enter ou espaço para selecionar um bloco. Depois, as setas o movem. Delete o remove e Esc cancela.",
    "node.a11yDescription.ariaLiveMessage": ({ direction, x, y }) => `Bloco movido para ${direction}. Nova posição: x ${x}, y ${y}`,
    "edge.a11yDescription.default": "Pressione Enter ou espaço para selecionar uma ligação. Delete a remove e Esc cancela.",
    "controls.ariaLabel": "Controles do quadro",
    "controls.zoomIn.ariaLabel": "Aproximar",
    "controls.zoomOut.ariaLabel": "Afastar",
    "controls.fitView.ariaLabel": "Ajustar à tela",
    "controls.interactive.ariaLabel": "Travar ou destravar a edição",
    "minimap.ariaLabel": "Minimapa",
    "handle.ariaLabel": "Ponto de ligação",
  },
  en: {
    "controls.ariaLabel": "Canvas controls",
    "controls.zoomIn.ariaLabel": "Zoom in",
    "controls.zoomOut.ariaLabel": "Zoom out",
    "controls.fitView.ariaLabel": "Fit to screen",
    "controls.interactive.ariaLabel": "Lock or unlock editing",
    "minimap.ariaLabel": "Mini map",
    "handle.ariaLabel": "Connection point",
  },
};

export function useCanvasLabels(): Partial<AriaLabelConfig> {
  return LABELS[useLanguage((state) => state.language)];
}

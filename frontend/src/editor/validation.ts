// Validation as you edit: after a short pause the definition goes to POST /validate; the
// errors are pinned on nodes and listed in the problems panel, and `scope` feeds autocomplete.
import { endpoints } from "../api/endpoints";
import type { EditorStore } from "./store";

export const VALIDATE_DELAY_MS = 500;

export function createValidator(editor: EditorStore, flowId: number) {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let latestRequest = 0;

  const run = async () => {
    const request = ++latestRequest;
    try {
      const result = await endpoints.validate(flowId, editor.getState().toDefinition());
      // An older answer arriving late must not replace a newer one.
      if (request === latestRequest) {
        editor.getState().setValidation([...result.errors, ...(result.warnings ?? [])], result.scope ?? {}, result.variables ?? {});
      }
    } catch {
      /* Validation is advisory while editing; publish validates again on the server. */
    }
  };

  let unsubscribe: (() => void) | null = null;

  return {
    run,
    start() {
      unsubscribe ??= editor.subscribe((current, previous) => {
        if (current.version === previous.version) return;
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => void run(), VALIDATE_DELAY_MS);
      });
    },
    dispose() {
      if (timer) clearTimeout(timer);
      unsubscribe?.();
      unsubscribe = null;
    },
  };
}

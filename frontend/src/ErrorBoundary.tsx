import { Component, type ReactNode } from "react";
import { translate, useLanguage } from "./i18n";

/** Keeps one broken panel (e.g. a form meeting an unexpected config) from blanking the whole app. */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey?: unknown }, { error: Error | null; key: unknown }> {
  state = { error: null as Error | null, key: undefined as unknown };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  static getDerivedStateFromProps(props: { resetKey?: unknown }, state: { error: Error | null; key: unknown }) {
    // A new selection (resetKey) gets a fresh chance to render.
    return props.resetKey !== state.key ? { error: null, key: props.resetKey } : null;
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="field-errors" role="alert">
        {translate(useLanguage.getState().language, "common.crashed")}: {this.state.error.message}
      </div>
    );
  }
}

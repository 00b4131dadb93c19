import { render } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { SchemaForm } from "../forms/SchemaForm";
import { mockFetch, NODE_TYPES } from "../test/fixtures";
import { configFor, NODE_TYPE_CONFIGS } from "./registry";

describe("node registry", () => {
  it("names purpose-built components only for backend types", () => {
    const keys = new Set(NODE_TYPES.map((spec) => spec.key));
    for (const key of Object.keys(NODE_TYPE_CONFIGS)) expect(keys.has(key), key).toBe(true);
  });

  it("uses the purpose-built forms where a plain form would be poor, the schema form elsewhere", () => {
    expect(configFor("branch").form.name).toBe("ConditionBuilder");
    expect(configFor("send_template").form.name).toBe("SendTemplateForm");
    expect(configFor("send_message").form.name).toBe("SendMessageForm");
    expect(configFor("delay").form).toBe(SchemaForm);
    expect(configFor("wait_for_reply").form).toBe(SchemaForm);
  });

  it("falls back to the schema-driven form for a type it does not know", () => {
    expect(configFor("brand_new_type").form).toBe(SchemaForm);
  });

  it("renders every type's form and body from its default config", () => {
    mockFetch((_method, url) => (url.startsWith("/api/templates/") ? { status: 200, body: [] } : undefined));
    for (const spec of NODE_TYPES) {
      const { form: Form, body: Body } = configFor(spec.key);
      const { container, unmount } = render(
        <div>
          <Body config={spec.default_config} spec={spec} />
          <Form nodeId="n1" config={spec.default_config} spec={spec} scope={[]} errors={[]} onChange={() => undefined} />
        </div>,
      );
      // Every type except "end" has something to configure.
      if (spec.key !== "end") expect(container.querySelectorAll("input, select, textarea").length, spec.key).toBeGreaterThan(0);
      unmount();
    }
  });
});

import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Config, NodeTypeSpec, ValidationError } from "../api/types";
import { useLanguage } from "../i18n";
import { mockFetch, specOf } from "../test/fixtures";
import { ConditionBuilder } from "./ConditionBuilder";
import { ExpressionInput, openExpressionAt } from "./ExpressionInput";
import { SchemaForm } from "./SchemaForm";
import { buttonId, SendMessageForm } from "./SendMessageForm";
import { SendTemplateForm } from "./SendTemplateForm";
import { resetTemplateCache } from "./templates";
import type { NodeFormProps } from "./types";

/** Renders a form with its config held in state, like the side panel does; returns the latest config. */
function renderForm(Form: (props: NodeFormProps) => React.ReactNode, spec: NodeTypeSpec, initial: Config, extra: Partial<NodeFormProps> = {}) {
  const latest = { config: initial };
  function Host() {
    const [config, setConfig] = useState(initial);
    return (
      <Form
        nodeId="n1"
        spec={spec}
        config={config}
        scope={extra.scope ?? []}
        errors={extra.errors ?? []}
        onChange={(next) => {
          latest.config = next;
          setConfig(next);
        }}
      />
    );
  }
  render(<Host />);
  return latest;
}

beforeEach(() => {
  useLanguage.getState().setLanguage("pt-BR");
  resetTemplateCache();
});

describe("ExpressionInput", () => {
  it("detects an open expression at the caret", () => {
    expect(openExpressionAt("Olá {{contact.na", 16)).toEqual({ start: 6, query: "contact.na" });
    expect(openExpressionAt("Olá {{contact.name}} ", 21)).toBeNull();
    expect(openExpressionAt("sem chaves", 5)).toBeNull();
  });

  it("suggests the variables in scope and inserts the chosen one", async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    function Host() {
      const [value, setValue] = useState("");
      return (
        <ExpressionInput
          value={value}
          scope={["contact.name", "contact.phone", "vars.order_id"]}
          ariaLabel="texto"
          onChange={(next) => {
            onChange(next);
            setValue(next);
          }}
        />
      );
    }
    render(<Host />);
    await user.type(screen.getByLabelText("texto"), "Oi {{{{con");
    const options = screen.getAllByRole("option").map((option) => option.dataset.name);
    expect(options).toEqual(["contact.name", "contact.phone"]);
    fireEvent.mouseDown(screen.getByRole("option", { name: "contact.phone" }));
    expect(onChange).toHaveBeenLastCalledWith("Oi {{contact.phone}}");
    expect(screen.queryByRole("listbox")).toBeNull();
  });
});

describe("ConditionBuilder", () => {
  it("adds conditions with rules, giving each a port id", async () => {
    const user = userEvent.setup();
    const latest = renderForm(ConditionBuilder, specOf("branch"), { mode: "conditions", conditions: [] });
    await user.click(screen.getByTestId("add-condition"));
    await user.click(screen.getByTestId("add-condition"));
    const first = screen.getAllByTestId("condition")[0];
    await user.clear(within(first).getByTestId("condition-label"));
    await user.type(within(first).getByTestId("condition-label"), "VIP");
    fireEvent.change(within(first).getByTestId("rule-left"), { target: { value: "{{contact.attributes.tier}}" } });
    fireEvent.change(within(first).getByTestId("rule-right"), { target: { value: "gold" } });
    const conditions = latest.config.conditions as { id: string; label: string; rules: unknown[] }[];
    expect(conditions.map((condition) => condition.id)).toEqual(["c1", "c2"]);
    expect(conditions[0]).toEqual({
      id: "c1",
      label: "VIP",
      match: "all",
      rules: [{ left: "{{contact.attributes.tier}}", op: "equals", right: "gold" }],
    });
  });

  it("switches AND/OR, hides the value of unary operators and adds groups", async () => {
    const user = userEvent.setup();
    const latest = renderForm(ConditionBuilder, specOf("branch"), {
      conditions: [{ id: "c1", label: "A", match: "all", rules: [{ left: "{{trigger.text}}", op: "equals", right: "x" }] }],
    });
    await user.selectOptions(screen.getAllByLabelText("Combinar regras")[0], "any");
    await user.selectOptions(screen.getByTestId("rule-op"), "empty");
    expect(screen.queryByTestId("rule-right")).toBeNull();
    await user.click(screen.getByRole("button", { name: "+ Grupo" }));
    const [condition] = latest.config.conditions as { match: string; rules: Record<string, unknown>[] }[];
    expect(condition.match).toBe("any");
    expect(condition.rules[0]).toEqual({ left: "{{trigger.text}}", op: "empty" });
    expect(condition.rules[1]).toMatchObject({ match: "any", rules: [{ op: "equals" }, { op: "equals" }] });
  });

  it("shows the validator's errors next to the rule", () => {
    const errors: ValidationError[] = [
      { code: "right_required", node_id: "n1", field: "conditions.c1.rules.0.right", message: { "pt-BR": "Informe o valor de comparação.", en: "Give the value." } },
    ];
    renderForm(ConditionBuilder, specOf("branch"), { conditions: [{ id: "c1", label: "A", rules: [{ left: "{{x}}", op: "equals", right: "" }] }] }, { errors });
    expect(within(screen.getByTestId("rule")).getByRole("alert").textContent).toContain("Informe o valor de comparação.");
  });
});

describe("SendTemplateForm", () => {
  it("shows the template text and one field per variable", async () => {
    const calls = mockFetch((_method, url) =>
      url.startsWith("/api/templates/")
        ? {
            status: 200,
            body: [
              { id: 1, name: "pedido", language: "pt_BR", category: "UTILITY", status: "APPROVED", parameter_count: 2, body_text: "Olá {{1}}, seu pedido {{2}} saiu.", components: [] },
              { id: 2, name: "oi", language: "pt_BR", category: "UTILITY", status: "APPROVED", parameter_count: 0, body_text: "Oi!", components: [] },
            ],
          }
        : undefined,
    );
    const user = userEvent.setup();
    const latest = renderForm(SendTemplateForm, specOf("send_template"), { template: "", language: "pt_BR", parameters: { body: [] } }, {
      scope: ["contact.name", "vars.order_id"],
    });
    await waitFor(() => expect(screen.getByRole("option", { name: "pedido · pt_BR" })).toBeTruthy());
    expect(calls[0].url).toBe("/api/templates/?status=APPROVED");
    await user.selectOptions(screen.getByTestId("template-select"), "pedido|pt_BR");
    expect(screen.getByTestId("template-text").textContent).toBe("Olá {{1}}, seu pedido {{2}} saiu.");
    expect(screen.getByTestId("template-var-0")).toBeTruthy();
    expect(screen.getByTestId("template-var-1")).toBeTruthy();
    fireEvent.change(screen.getByTestId("template-var-1"), { target: { value: "{{vars.order_id}}" } });
    expect(latest.config).toEqual({ template: "pedido", language: "pt_BR", parameters: { body: ["", "{{vars.order_id}}"] } });
    await user.selectOptions(screen.getByTestId("template-select"), "oi|pt_BR");
    expect(screen.queryByTestId("template-var-0")).toBeNull();
    expect(latest.config.parameters).toEqual({ body: [] });
  });
});

describe("the delay's schema-driven form and the duration input", () => {
  it("edits the duration and shows only the chosen mode's fields (visible_when from the API)", async () => {
    const user = userEvent.setup();
    const latest = renderForm(SchemaForm, specOf("delay"), { mode: "duration", duration: { value: 1, unit: "hours" } });
    expect(screen.getByRole("option", { name: "Por um tempo" })).toBeTruthy(); // served enum labels
    fireEvent.change(screen.getByLabelText("Quantidade"), { target: { value: "30" } });
    await user.selectOptions(screen.getByLabelText("Unidade"), "minutes");
    expect(latest.config.duration).toEqual({ value: 30, unit: "minutes" });
    expect(screen.queryByTestId("field-timezone")).toBeNull();
    await user.selectOptions(screen.getByTestId("field-mode"), "time_of_day");
    expect(screen.queryByLabelText("Quantidade")).toBeNull();
    expect(screen.getByText("Horário")).toBeTruthy();
    expect(screen.getByTestId("field-timezone")).toBeTruthy();
  });
});

describe("the trigger form", () => {
  it("shows the fields of the chosen event, with served titles and help", async () => {
    const user = userEvent.setup();
    const { TriggerForm } = await import("./TriggerForm");
    const latest = renderForm(TriggerForm, specOf("trigger"), { event: "message", match: "any" });
    expect(screen.queryByTestId("field-event_name")).toBeNull();
    await user.selectOptions(screen.getByTestId("field-event"), "external");
    expect(screen.getByText("Nome do evento externo")).toBeTruthy();
    expect(screen.getByText(/Declare os campos que o evento traz/)).toBeTruthy();
    fireEvent.change(screen.getByTestId("field-event_name"), { target: { value: "call.finished" } });
    expect(latest.config).toMatchObject({ event: "external", event_name: "call.finished" });
  });
});

describe("SchemaForm", () => {
  it("builds fields from the JSON schema and writes typed values", async () => {
    const user = userEvent.setup();
    const spec: NodeTypeSpec = {
      ...specOf("send_message"),
      key: "custom",
      config_schema: {
        type: "object",
        properties: {
          url: { type: "string" },
          retries: { type: "integer", minimum: 0 },
          method: { enum: ["GET", "POST"] },
          follow: { type: "boolean" },
          tags: { type: "array", items: { type: "string" } },
          timeout: { type: "object", properties: { value: { type: "number" }, unit: { enum: ["seconds", "minutes", "hours", "days"] } } },
        },
        required: ["url", "method"],
      },
    };
    const latest = renderForm(SchemaForm, spec, { url: "", method: "GET" });
    fireEvent.change(screen.getByTestId("field-url"), { target: { value: "https://api/{{vars.id}}" } });
    fireEvent.change(screen.getByTestId("field-retries"), { target: { value: "3" } });
    await user.selectOptions(screen.getByTestId("field-method"), "POST");
    await user.click(screen.getByTestId("field-follow"));
    fireEvent.change(screen.getByTestId("field-tags"), { target: { value: "a\nb" } });
    fireEvent.change(within(screen.getByTestId("field-timeout")).getByLabelText("Quantidade"), { target: { value: "5" } });
    expect(latest.config).toEqual({
      url: "https://api/{{vars.id}}",
      retries: 3,
      method: "POST",
      follow: true,
      tags: ["a", "b"],
      timeout: { value: 5, unit: "hours" },
    });
  });

  it("shows an unset select at its schema default and offers send_media's fetch choices in pt-BR", async () => {
    const user = userEvent.setup();
    const latest = renderForm(SchemaForm, specOf("send_media"), { media_type: "document", source: "url", url: "{{vars.fatura}}" });
    const fetch = screen.getByTestId("field-fetch") as HTMLSelectElement;
    expect(fetch.value).toBe("fluxo"); // a node saved before the option: Fluxo fetches
    expect(within(fetch).queryByRole("option", { name: "—" })).toBeNull();
    expect(within(fetch).getByRole("option", { name: "Meta busca o link (link público)" })).toBeTruthy();
    expect(screen.getByText("Quem baixa o arquivo")).toBeTruthy();
    await user.selectOptions(fetch, "meta");
    expect(latest.config.fetch).toBe("meta");
    await user.selectOptions(screen.getByTestId("field-source"), "library");
    expect(screen.queryByTestId("field-fetch")).toBeNull(); // only for links
  });

  it("speaks English when the user switches", () => {
    useLanguage.getState().setLanguage("en");
    renderForm(SchemaForm, specOf("delay"), { mode: "duration", duration: { value: 1, unit: "hours" } });
    expect(screen.getByLabelText("Amount")).toBeTruthy();
    expect(screen.getByRole("option", { name: "For a duration" })).toBeTruthy();
  });
});

describe("SendMessageForm", () => {
  it("derives button ids from their titles until the id is edited by hand", async () => {
    const user = userEvent.setup();
    const latest = renderForm(SendMessageForm, specOf("send_message"), { text: "Posso ajudar?" });
    await user.selectOptions(screen.getByTestId("reply-kind"), "buttons");
    await user.click(screen.getByTestId("add-button"));
    await user.click(screen.getByTestId("add-button"));
    fireEvent.change(screen.getAllByTestId("button-title")[0], { target: { value: "Falar com atendente" } });
    fireEvent.change(screen.getAllByTestId("button-id")[1], { target: { value: "meu_id" } });
    fireEvent.change(screen.getAllByTestId("button-title")[1], { target: { value: "Não, obrigado" } });
    expect(latest.config.buttons).toEqual([
      { id: "falar_com_atendente", title: "Falar com atendente" },
      { id: "meu_id", title: "Não, obrigado" },
    ]);
    await user.click(screen.getByTestId("add-button"));
    expect(screen.queryByTestId("add-button")).toBeNull(); // WhatsApp allows three
    await user.selectOptions(screen.getByTestId("reply-kind"), "list");
    expect(latest.config.buttons).toBeUndefined();
    expect(latest.config.list).toMatchObject({ button: "Ver opções", sections: [{ rows: [{ id: "opcao_1" }] }] });
    expect(latest.config.text).toBe("Posso ajudar?");
  });

  it("makes ids that are valid and unique", () => {
    expect(buttonId("Sim!", [])).toBe("sim");
    expect(buttonId("Sim", ["sim", "sim_2"])).toBe("sim_3");
    expect(buttonId("???", [])).toBe("botao");
    expect(buttonId("Ação já", [])).toBe("acao_ja");
  });
});

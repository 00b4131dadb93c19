// The frontend node-type registry, modelled on RapidPro floweditor's `typeConfigs`: the few node
// types with purpose-built components name them here. Every other type is drawn and edited from
// the facts GET /api/node-types/ serves (fields, summary, glyph, ports) with GenericBody and
// SchemaForm, so adding such a type touches only its backend module.
// tests/flows/test_frontend_registry.py checks that these keys are backend types and that every
// type serves what a schema-driven form needs.
import type { ComponentType } from "react";
import { ConditionBuilder } from "../forms/ConditionBuilder";
import { SchemaForm } from "../forms/SchemaForm";
import { SendMessageForm } from "../forms/SendMessageForm";
import { SendTemplateForm } from "../forms/SendTemplateForm";
import { TriggerForm } from "../forms/TriggerForm";
import type { NodeFormProps } from "../forms/types";
import { BranchBody, GenericBody, SendMessageBody, SendTemplateBody, TriggerBody, type BodyProps } from "./bodies";

export interface NodeTypeConfig {
  /** Drawn inside the canvas card, under the title. */
  body: ComponentType<BodyProps>;
  /** The side-panel form for the selected node. */
  form: ComponentType<NodeFormProps>;
}

export const NODE_TYPE_CONFIGS: Record<string, NodeTypeConfig> = {
  trigger: { body: TriggerBody, form: TriggerForm },
  branch: { body: BranchBody, form: ConditionBuilder },
  send_template: { body: SendTemplateBody, form: SendTemplateForm },
  send_message: { body: SendMessageBody, form: SendMessageForm },
};

const SCHEMA_DRIVEN: NodeTypeConfig = { body: GenericBody, form: SchemaForm };

export function configFor(nodeType: string): NodeTypeConfig {
  return NODE_TYPE_CONFIGS[nodeType] ?? SCHEMA_DRIVEN;
}

// The frontend node-type registry, modelled on RapidPro floweditor's `typeConfigs`: for every
// backend node type key, the body drawn on the canvas card and the side-panel form.
// tests/flows/test_frontend_registry.py checks that the keys here match the backend registry
// exactly, so a new backend node type cannot silently fall back to nothing.
import type { ComponentType } from "react";
import { ConditionBuilder } from "../forms/ConditionBuilder";
import { DelayForm } from "../forms/DelayForm";
import { SchemaForm } from "../forms/SchemaForm";
import { SendMessageForm } from "../forms/SendMessageForm";
import { SendTemplateForm } from "../forms/SendTemplateForm";
import { TriggerForm } from "../forms/TriggerForm";
import type { NodeFormProps } from "../forms/types";
import { WaitForReplyForm } from "../forms/WaitForReplyForm";
import {
  BranchBody,
  DelayBody,
  GenericBody,
  SendMessageBody,
  SendTemplateBody,
  TriggerBody,
  WaitForReplyBody,
  type BodyProps,
} from "./bodies";

export interface NodeTypeConfig {
  /** Drawn inside the canvas card, under the title. */
  body: ComponentType<BodyProps>;
  /** The side-panel form for the selected node. */
  form: ComponentType<NodeFormProps>;
}

export const NODE_TYPE_CONFIGS: Record<string, NodeTypeConfig> = {
  trigger: { body: TriggerBody, form: TriggerForm },
  delay: { body: DelayBody, form: DelayForm },
  branch: { body: BranchBody, form: ConditionBuilder },
  send_template: { body: SendTemplateBody, form: SendTemplateForm },
  send_message: { body: SendMessageBody, form: SendMessageForm },
  wait_for_reply: { body: WaitForReplyBody, form: WaitForReplyForm },
  ai_reply: { body: GenericBody, form: SchemaForm },
  set_variable: { body: GenericBody, form: SchemaForm },
  end: { body: GenericBody, form: SchemaForm },
  http_request: { body: GenericBody, form: SchemaForm },
  route_to_team: { body: GenericBody, form: SchemaForm },
  set_conversation_state: { body: GenericBody, form: SchemaForm },
  subflow: { body: GenericBody, form: SchemaForm },
  notify: { body: GenericBody, form: SchemaForm },
};

/** Unknown keys (a backend newer than this bundle) still get a usable schema-driven form. */
export function configFor(nodeType: string): NodeTypeConfig {
  return NODE_TYPE_CONFIGS[nodeType] ?? { body: GenericBody, form: SchemaForm };
}

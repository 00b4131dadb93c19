import type { Config, NodeTypeSpec, ValidationError } from "../api/types";

export interface NodeFormProps {
  nodeId: string;
  config: Config;
  spec: NodeTypeSpec;
  /** Variables available at this node (from the validate endpoint), for expression autocomplete. */
  scope: string[];
  /** Validation problems of this node. */
  errors: ValidationError[];
  onChange: (config: Config) => void;
}

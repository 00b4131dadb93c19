import { describe, expect, it } from "vitest";
import { PORT_EXAMPLES, specOf } from "../test/fixtures";
import { portsFor } from "./ports";

describe("portsFor", () => {
  it("applies the served rule exactly as the backend does (generated examples)", () => {
    expect(PORT_EXAMPLES.length).toBeGreaterThan(2);
    for (const example of PORT_EXAMPLES) {
      expect(portsFor(specOf(example.type), example.config)).toEqual(example.ports);
    }
  });

  it("gives static ports for types without a rule, and none for an unknown type", () => {
    expect(portsFor(specOf("send_template"), {}).map((port) => port.key)).toEqual(["next", "failure"]);
    expect(portsFor(undefined, {})).toEqual([]);
  });
});

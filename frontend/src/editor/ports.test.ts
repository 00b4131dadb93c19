import { describe, expect, it } from "vitest";
import { specOf } from "../test/fixtures";
import { portsFor } from "./ports";

describe("portsFor", () => {
  it("gives a branch one port per condition plus the default", () => {
    const ports = portsFor(specOf("branch"), {
      conditions: [
        { id: "vip", label: "Cliente VIP" },
        { id: "late", label: "" },
      ],
    });
    expect(ports.map((port) => port.key)).toEqual(["vip", "late", "default"]);
    expect(ports[0].label["pt-BR"]).toBe("Cliente VIP");
    expect(ports[1].label.en).toBe("late");
    expect(ports[2].label["pt-BR"]).toBe("Outro");
  });

  it("uses the default label from the config", () => {
    expect(portsFor(specOf("branch"), { conditions: [], default_label: "Resto" })).toEqual([
      { key: "default", label: { "pt-BR": "Resto", en: "Resto" } },
    ]);
  });

  it("uses the static ports of other types", () => {
    expect(portsFor(specOf("send_template"), {}).map((port) => port.key)).toEqual(["next", "failure"]);
    expect(portsFor(specOf("end"), {})).toEqual([]);
  });
});

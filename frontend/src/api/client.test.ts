import { describe, expect, it, vi } from "vitest";
import { mockFetch } from "../test/fixtures";
import { ApiError, api, onSessionLost } from "./client";

describe("api client", () => {
  it("sends the CSRF token on unsafe requests only", async () => {
    document.cookie = "csrftoken=tok123";
    const headers: Record<string, string>[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (_url: string, init: RequestInit) => {
        headers.push(init.headers as Record<string, string>);
        return new Response("{}", { status: 200 });
      }),
    );
    await api.get("/api/flows/");
    await api.post("/api/flows/", { name: "x" });
    expect(headers[0]["X-CSRFToken"]).toBeUndefined();
    expect(headers[1]["X-CSRFToken"]).toBe("tok123");
  });

  it("raises the API's error shape, extra keys included", async () => {
    mockFetch(() => ({
      status: 409,
      body: { error: { code: "stale_revision", message: "Someone saved", details: {}, author: "bruno", current_revision: 4 } },
    }));
    const error = await api.post("/api/flows/1/revisions/", {}).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(409);
    expect((error as ApiError).code).toBe("stale_revision");
    expect((error as ApiError).body.author).toBe("bruno");
  });

  it("tells the app when the session is gone", async () => {
    mockFetch(() => ({ status: 403, body: { error: { code: "not_authenticated", message: "no", details: {} } } }));
    const lost = vi.fn();
    const stop = onSessionLost(lost);
    await api.get("/api/flows/").catch(() => undefined);
    stop();
    await api.get("/api/flows/").catch(() => undefined);
    expect(lost).toHaveBeenCalledTimes(1);
  });

  it("keeps a readable error when the body is not JSON", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response("<h1>Bad gateway</h1>", { status: 502 })));
    const error = (await api.get("/api/x/").catch((failure: unknown) => failure)) as ApiError;
    expect(error.code).toBe("http_502");
    expect(error.message).toContain("Bad gateway");
  });
});

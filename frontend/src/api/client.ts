// A thin fetch wrapper: JSON in and out, session cookie, CSRF header on unsafe methods, and one
// error type carrying the API's error shape {"error": {code, message, details, ...extra}}.

export interface ApiErrorBody {
  code: string;
  message: string;
  details: Record<string, string[] | unknown>;
  [extra: string]: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly body: ApiErrorBody;

  constructor(status: number, body: ApiErrorBody) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }

  get code(): string {
    return this.body.code;
  }
}

export function readCookie(name: string): string | null {
  const match = document.cookie.split("; ").find((part) => part.startsWith(`${name}=`));
  return match ? decodeURIComponent(match.slice(name.length + 1)) : null;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

// The API answers errors in the language the person reads (Django's LocaleMiddleware).
let acceptLanguage = "pt-BR";
export function setApiLanguage(language: string) {
  acceptLanguage = language;
}

/** Everything the API said about a failure, for the person reading it: the message in their
 * language when the server gave one, and each field's reasons. */
export function errorText(error: unknown, language = acceptLanguage): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  const body = error.body;
  const messages = body.messages as Record<string, string> | undefined;
  if (messages && (messages[language] || messages["pt-BR"])) return messages[language] || messages["pt-BR"];
  const details = Object.entries(body.details ?? {}).flatMap(([field, reasons]) =>
    (Array.isArray(reasons) ? reasons : [reasons]).map((reason) =>
      field === "non_field_errors" ? String(reason) : `${field}: ${typeof reason === "string" ? reason : JSON.stringify(reason)}`,
    ),
  );
  return details.length ? details.join(" · ") : body.message || `HTTP ${error.status}`;
}

type Listener = () => void;
const sessionLostListeners = new Set<Listener>();

/** Called when the API says the session is gone (logged out elsewhere, expired). */
export function onSessionLost(listener: Listener): () => void {
  sessionLostListeners.add(listener);
  return () => sessionLostListeners.delete(listener);
}

export async function request<T>(method: string, url: string, body?: unknown, options: { keepalive?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", "Accept-Language": acceptLanguage };
  const form = typeof FormData !== "undefined" && body instanceof FormData;
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  if (!SAFE_METHODS.has(method)) {
    const token = readCookie("csrftoken");
    if (token) headers["X-CSRFToken"] = token;
  }
  const response = await fetch(url, {
    method,
    headers,
    credentials: "same-origin",
    keepalive: options.keepalive,
    body: body === undefined ? undefined : form ? (body as FormData) : JSON.stringify(body),
  });
  const text = await response.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = (data as { error?: ApiErrorBody } | null)?.error;
    if ((response.status === 401 || response.status === 403) && error?.code === "not_authenticated") {
      sessionLostListeners.forEach((listener) => listener());
    }
    throw new ApiError(
      response.status,
      error ?? { code: `http_${response.status}`, message: text.slice(0, 200) || response.statusText, details: {} },
    );
  }
  return data as T;
}

export const api = {
  get: <T>(url: string) => request<T>("GET", url),
  post: <T>(url: string, body?: unknown, options?: { keepalive?: boolean }) => request<T>("POST", url, body ?? {}, options),
  patch: <T>(url: string, body: unknown) => request<T>("PATCH", url, body),
  delete: <T>(url: string) => request<T>("DELETE", url),
  /** multipart/form-data (file uploads): the browser sets the boundary. */
  upload: <T>(url: string, form: FormData) => request<T>("POST", url, form),
};

// Sign-in with an API key: checked against the server, then kept for this browser session.

import { api, session } from "../api.js";
import { field, h, mount, setFieldError } from "../dom.js";

export async function renderSignIn(view) {
  const input = h("input", { type: "password", name: "key", autocomplete: "off",
    spellcheck: "false", required: true, placeholder: "sp_…" });
  const f = field("API key", input,
    "Ask whoever runs the server for a key (salesplan apikey create NAME). It is kept only "
    + "until you close this browser session.");
  const button = h("button.primary", { type: "submit" }, "Sign in");
  const form = h("form.signin", { "aria-labelledby": "signin-title" },
    h("h1#signin-title", {}, "Sign in"), f.wrap, button);
  const message = sessionStorage.getItem("salesplan.signin-message");
  sessionStorage.removeItem("salesplan.signin-message");
  if (message) setFieldError(f, message);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const key = input.value.trim();
    if (!key) { setFieldError(f, "Type your API key."); return; }
    button.disabled = true;
    try {
      const me = await api.get("v1/keys/me", { key });
      session.key = key;
      session.me = me;
      const after = sessionStorage.getItem("salesplan.after") || "#/scenarios";
      sessionStorage.removeItem("salesplan.after");
      location.hash = after === "#/signin" ? "#/scenarios" : after;
    } catch (err) {
      setFieldError(f, err.status === 401
        ? `This key was not accepted: ${err.message}` : err.message);
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
  mount(view, form);
  input.focus();
}

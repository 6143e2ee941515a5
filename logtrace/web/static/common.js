// logtrace ui: helpers shared by every page. Every value from the files goes into the page
// through textContent (LT.el, LT.text): never as markup.
"use strict";

const LT = (() => {
  const SERVICE_COLOURS = 8;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svg(tag, attributes) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      node.setAttribute(key, String(value));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  // A link inside this app: the path is ours, the values are encoded as a query string.
  function link(path, params, text, className) {
    const a = el("a", className, text);
    const query = new URLSearchParams(params).toString();
    a.href = path + (query ? "?" + query : "");
    return a;
  }

  function traceLink(traceId, text) {
    return link("/trace", { id: traceId }, text === undefined ? traceId : text, "trace-id");
  }

  async function api(path, params) {
    const query = params ? new URLSearchParams(params).toString() : "";
    const response = await fetch(path + (query ? "?" + query : ""), {
      headers: { accept: "application/json" },
      credentials: "same-origin",
    });
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      throw new Error(`${response.status} ${response.statusText}`);
    }
    if (!response.ok) {
      const error = new Error((body && body.error) || `${response.status}`);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  function duration(ms) {
    if (ms === null || ms === undefined || Number.isNaN(ms)) return "–";
    if (ms < 1) return `${Math.round(ms * 1000)} µs`;
    if (ms < 1000) return `${ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : Math.round(ms)} ms`;
    if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
    return `${(ms / 60000).toFixed(1)} min`;
  }

  function time(iso) {
    if (!iso) return "–";
    const text = String(iso);
    return text.replace("T", " ").replace("Z", "").slice(0, 23);
  }

  function percent(fraction) {
    if (fraction === null || fraction === undefined) return "–";
    return `${(fraction * 100).toFixed(1)}%`;
  }

  function serviceClass(service) {
    let hash = 0;
    const text = String(service || "");
    for (let i = 0; i < text.length; i++) hash = (hash * 31 + text.charCodeAt(i)) >>> 0;
    return `svc-${hash % SERVICE_COLOURS}`;
  }

  function statusBadge(status) {
    return el("span", `badge status-${status === "error" || status === "unfinished" ? status : "ok"}`, status);
  }

  function showError(container, message) {
    clear(container);
    container.appendChild(el("p", "error-box", message));
  }

  // Fill the form's fields from the page's address (the address holds the filters); on
  // submit, empty fields stay out of the address.
  function fillForm(form) {
    form.addEventListener("submit", () => {
      for (const field of form.elements) if (field.name && field.value === "") field.disabled = true;
    });
    window.addEventListener("pageshow", () => {
      for (const field of form.elements) field.disabled = false;
    });
    const params = new URLSearchParams(location.search);
    for (const field of form.elements) {
      if (field.name && params.has(field.name)) field.value = params.get(field.name);
    }
    return params;
  }

  // The address's parameters that have a value, as an object (for the JSON endpoint).
  function given(params, names) {
    const out = {};
    for (const name of names) {
      const value = params.get(name);
      if (value !== null && value !== "") out[name] = value;
    }
    return out;
  }

  function table(columns, rows, className) {
    const t = el("table", className);
    const head = t.createTHead().insertRow();
    for (const column of columns) head.appendChild(el("th", null, column));
    const body = t.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      for (const cell of row) {
        const td = tr.insertCell();
        if (cell instanceof Node) td.appendChild(cell);
        else td.textContent = cell === null || cell === undefined ? "" : String(cell);
      }
    }
    return t;
  }

  function copyButton(value) {
    const button = el("button", "copy", "copy");
    button.type = "button";
    button.title = "copy to the clipboard";
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(value);
        button.textContent = "copied";
      } catch (error) {
        button.textContent = "select and copy";
      }
      setTimeout(() => (button.textContent = "copy"), 1500);
    });
    return button;
  }

  // A shell word: the text in single quotes, its own single quotes escaped.
  function shellQuote(text) {
    return /^[A-Za-z0-9_./:@%+=-]+$/.test(text) ? text : "'" + text.replace(/'/g, "'\\''") + "'";
  }

  function markNav(page) {
    for (const a of document.querySelectorAll("nav a")) {
      if (a.dataset.page === page) a.classList.add("active");
    }
  }

  return {
    api, clear, copyButton, duration, el, fillForm, given, link, markNav, percent,
    serviceClass, shellQuote, showError, statusBadge, svg, table, time, traceLink,
  };
})();

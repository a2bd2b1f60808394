// Obrolan's small behaviours. Every page works without this file; it only makes logging faster.
(function () {
  "use strict";

  const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  document.addEventListener("htmx:configRequest", (event) => {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  document.addEventListener("submit", (event) => {
    const question = event.submitter?.dataset?.confirm || event.target.dataset?.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // Customer list: the box in the header picks (or unpicks) every row of the page.
  document.addEventListener("change", (event) => {
    if (!event.target.matches("[data-pick-all]")) return;
    document.querySelectorAll('input[name="ids"][form="bulk"]').forEach((box) => {
      box.checked = event.target.checked;
    });
  });

  // Customer picker on "Log chat": choosing a search result fills the hidden customer_id.
  document.addEventListener("click", (event) => {
    const pick = event.target.closest("[data-pick-customer]");
    if (pick) {
      const picker = pick.closest("[data-customer-picker]");
      picker.querySelector("[data-picked-customer]").value = pick.dataset.pickCustomer;
      picker.querySelector("[data-picked-name]").textContent = pick.dataset.name;
      picker.querySelector("[data-picked-label]").hidden = false;
      picker.querySelector("[data-pick-area]").hidden = true;
      // The chat is most likely on the customer's usual channel (their latest conversation's, or their only one).
      const channel = picker.closest("form").querySelector("select[name=channel]");
      if (channel && pick.dataset.channel) channel.value = pick.dataset.channel;
      picker.dispatchEvent(new CustomEvent("customer-picked", { bubbles: true }));
      picker.closest("form").querySelector("[data-message-rows] textarea")?.focus();
      return;
    }
    const unpick = event.target.closest("[data-unpick]");
    if (unpick) {
      const picker = unpick.closest("[data-customer-picker]");
      picker.querySelector("[data-picked-customer]").value = "";
      picker.querySelector("[data-picked-label]").hidden = true;
      picker.querySelector("[data-pick-area]").hidden = false;
      picker.querySelector('input[type="search"]')?.focus();
      return;
    }
    const addRow = event.target.closest("[data-add-row]");
    if (addRow) {
      event.preventDefault();
      addMessageRow(addRow.form.querySelector("[data-message-rows]"));
    }
  });

  function addMessageRow(list) {
    const rows = list.querySelectorAll(".message-row");
    const last = rows[rows.length - 1];
    const row = last.cloneNode(true);
    const index = rows.length;
    row.querySelectorAll("[name], [id], [for]").forEach((el) => {
      for (const attr of ["name", "id", "for"]) {
        const value = el.getAttribute(attr);
        if (value) el.setAttribute(attr, value.replace(/messages-\d+-/, `messages-${index}-`));
      }
    });
    row.querySelectorAll("textarea, input[type=datetime-local]").forEach((el) => { el.value = ""; });
    row.querySelectorAll(".error").forEach((el) => el.remove());
    // The next message is usually the other side's answer.
    const lastSide = last.querySelector("input[type=radio]:checked")?.value;
    row.querySelectorAll("input[type=radio]").forEach((radio) => {
      radio.checked = radio.value !== lastSide;
    });
    list.appendChild(row);
    row.querySelector("textarea").focus();
    return row;
  }

  // With a keyboard, Enter moves to the next message (adding one at the end), Shift+Enter is a new line and
  // Ctrl+Enter saves. On a touch screen Enter stays a new line: there is no Shift, and the buttons do the rest.
  const touchScreen = window.matchMedia("(pointer: coarse)");
  document.addEventListener("keydown", (event) => {
    const area = event.target.closest("[data-message-rows] textarea");
    if (!area || event.key !== "Enter" || event.isComposing || touchScreen.matches) return;
    if (event.ctrlKey || event.metaKey) {
      event.preventDefault();
      area.form.querySelector("button[name=save]")?.click();
    } else if (!event.shiftKey) {
      event.preventDefault();
      const row = area.closest(".message-row");
      const next = row.nextElementSibling;
      if (next) next.querySelector("textarea").focus();
      else addMessageRow(row.parentElement);
    }
  });
})();

// Upload progress on the import page.
document.addEventListener("htmx:xhr:progress", (event) => {
  const form = event.target.closest?.("[data-upload-progress]");
  const bar = form?.querySelector("[data-progress]");
  if (!bar || !event.detail.lengthComputable) return;
  bar.hidden = false;
  bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
});

// Follow-up queue: filters apply as soon as a choice changes (the Filter button stays for no-JS).
document.addEventListener("change", (event) => {
  const form = event.target.closest("form[data-autosubmit]");
  if (form && event.target.matches("select, input[type=checkbox]")) form.requestSubmit();
});

// Pipeline form: the sale fields matter when the stage is "won"; without JS they are always shown.
(function () {
  "use strict";
  const sync = (form) => {
    const fields = form.querySelector("[data-sale-fields]");
    const stage = form.querySelector("select[name=stage]");
    if (fields && stage) fields.hidden = stage.value !== "won";
  };
  document.querySelectorAll("form[data-stage-form]").forEach(sync);
  document.addEventListener("change", (event) => {
    const form = event.target.closest("form[data-stage-form]");
    if (form && event.target.matches("select[name=stage]")) sync(form);
  });
})();

// Search box in the top bar: Escape or a click elsewhere closes the suggestions; Down moves into them.
(function () {
  "use strict";
  const panel = () => document.getElementById("topsearch-suggest");
  const close = () => { const p = panel(); if (p) p.innerHTML = ""; };
  document.addEventListener("keydown", (event) => {
    const box = event.target.closest?.(".topsearch");
    if (!box) return;
    const items = [...box.querySelectorAll(".suggest a")];
    const index = items.indexOf(document.activeElement);
    if (event.key === "Escape") {
      close();
      box.querySelector("input[type=search]").focus();
    } else if (event.key === "ArrowDown" && items.length) {
      event.preventDefault();
      items[Math.min(index + 1, items.length - 1)].focus();
    } else if (event.key === "ArrowUp" && index >= 0) {
      event.preventDefault();
      (index === 0 ? box.querySelector("input[type=search]") : items[index - 1]).focus();
    }
  });
  document.addEventListener("click", (event) => {
    if (!event.target.closest(".topsearch")) close();
  });
})();

// Forms marked data-swap-errors answer a refusal (400, 413) with the form and its errors: show them.
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  const form = event.detail.requestConfig?.elt?.closest?.("[data-swap-errors]");
  if (form && status >= 400 && status < 500) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// A file too large to upload is said at once, before it is sent.
document.addEventListener("change", (event) => {
  const input = event.target;
  if (!input.matches?.("input[type=file][data-max-bytes]")) return;
  const limit = Number(input.dataset.maxBytes);
  const file = input.files?.[0];
  const message = file && file.size > limit
    ? (input.dataset.tooLarge || "").replace("%(size)s", limit >= 1048576
      ? `${Math.floor(limit / 1048576)} MB` : `${Math.max(1, Math.floor(limit / 1024))} kB`)
    : "";
  input.setCustomValidity(message);
  if (message) input.reportValidity();
});

// Top bar on a phone: the menu button opens and closes the menu (without JavaScript it is a link to #site-menu).
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-menu-toggle]");
  const menu = document.getElementById("site-menu");
  if (!menu) return;
  if (toggle) {
    event.preventDefault();
    const open = menu.classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(open));
    if (open) menu.querySelector("input[type=search]")?.focus();
  } else if (menu.classList.contains("open") && !event.target.closest("#site-menu")) {
    menu.classList.remove("open");
    document.querySelector("[data-menu-toggle]")?.setAttribute("aria-expanded", "false");
  }
});

// Quick replies: typing "/" in a reply box lists the shop's quick replies (by shortcut or title, filled for the
// customer by the server); arrows choose, Enter or Tab puts one in, Escape closes. A blank like {?ukuran} is then
// selected to type over, and Tab goes to the next one. The form is told which quick replies went in.
(function () {
  "use strict";
  const BOXES = "textarea[data-quick-replies], [data-message-rows] textarea, [data-reply-context] textarea";
  const BLANK = /\{\?[^{}\n]{1,40}\}/g;
  let picker = null; // {area, list, items, index, start, request}

  const contextOf = (area) => {
    const holder = area.closest("[data-reply-context]");
    const form = area.form;
    return {
      customer_id: holder?.dataset.customer || form?.querySelector("[name=customer_id]")?.value || "",
      conversation_id: holder?.dataset.conversation || "",
      name: form?.querySelector("[name=new_customer_name]")?.value || "",
    };
  };

  const typedShortcut = (area) => {
    const before = area.value.slice(0, area.selectionStart);
    const match = before.match(/(?:^|\s)\/([^\s/]{0,30})$/);
    return match ? { query: match[1], start: area.selectionStart - match[1].length - 1 } : null;
  };

  function close() {
    if (!picker) return;
    picker.list.remove();
    picker.area.removeAttribute("aria-activedescendant");
    picker.area.setAttribute("aria-expanded", "false");
    picker = null;
  }

  function highlight(index) {
    picker.index = index;
    picker.items.forEach((item, i) => item.setAttribute("aria-selected", String(i === index)));
    const active = picker.items[index];
    if (active) {
      picker.area.setAttribute("aria-activedescendant", active.id);
      active.scrollIntoView({ block: "nearest" });
    }
  }

  function show(area, start, replies, noneText) {
    const list = picker?.area === area ? picker.list : document.createElement("ul");
    list.className = "reply-picker";
    list.id = list.id || `reply-picker-${Date.now()}`;
    list.setAttribute("role", "listbox");
    list.replaceChildren();
    const items = replies.map((reply, i) => {
      const item = document.createElement("li");
      item.id = `${list.id}-${i}`;
      item.setAttribute("role", "option");
      item.dataset.index = String(i);
      const head = document.createElement("strong");
      head.textContent = `/${reply.shortcut}`;
      const title = document.createElement("span");
      title.textContent = ` ${reply.title}`;
      const text = document.createElement("span");
      text.className = "reply-picker-text";
      text.textContent = reply.text;
      item.append(head, title, text);
      return item;
    });
    if (!items.length) {
      const none = document.createElement("li");
      none.className = "reply-picker-none";
      none.textContent = noneText;
      list.append(none);
    }
    list.append(...items);
    if (!list.isConnected) area.insertAdjacentElement("afterend", list);
    area.setAttribute("aria-controls", list.id);
    area.setAttribute("aria-expanded", "true");
    area.setAttribute("aria-autocomplete", "list");
    picker = { area, list, items, replies, index: 0, start, request: picker?.request || 0 };
    if (items.length) highlight(0);
  }

  function choose(index) {
    const { area, replies, start } = picker;
    const reply = replies[index];
    close();
    if (!reply) return;
    const end = area.selectionStart;
    area.value = area.value.slice(0, start) + reply.text + area.value.slice(end);
    const form = area.form;
    if (form && !form.querySelector(`input[name=quick_reply][value="${reply.id}"]`)) {
      const used = document.createElement("input");
      used.type = "hidden";
      used.name = "quick_reply";
      used.value = String(reply.id);
      form.append(used);
    }
    area.focus();
    if (!selectBlank(area, start)) area.setSelectionRange(start + reply.text.length, start + reply.text.length);
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // Select the next {?blank} from `from` on (wrapping round); false when there is none.
  function selectBlank(area, from) {
    const blanks = [...area.value.matchAll(BLANK)];
    if (!blanks.length) return false;
    const next = blanks.find((m) => m.index >= from) || blanks[0];
    area.setSelectionRange(next.index, next.index + next[0].length);
    return true;
  }

  document.addEventListener("input", (event) => {
    const area = event.target.closest?.(BOXES);
    if (!area) return;
    const typed = typedShortcut(area);
    if (!typed) { if (picker?.area === area) close(); return; }
    const request = (picker?.request || 0) + 1;
    if (picker) picker.request = request;
    else picker = { area, list: document.createElement("ul"), items: [], replies: [], index: 0, start: typed.start, request };
    const params = new URLSearchParams({ q: typed.query, ...contextOf(area) });
    const url = document.querySelector('meta[name="quick-replies"]')?.content;
    if (!url) return;
    fetch(`${url}?${params}`, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : { replies: [], none: "" }))
      .then((answer) => {
        if (!picker || picker.request !== request || picker.area !== area) return;
        if (!typedShortcut(area)) { close(); return; }
        show(area, typed.start, answer.replies, answer.none);
      })
      .catch(() => {});
  });

  // Capture: the picker's Enter comes before Log chat's "Enter goes to the next message".
  document.addEventListener("keydown", (event) => {
    const area = event.target.closest?.(BOXES);
    if (!area) return;
    if (picker?.area === area && picker.items.length) {
      const keys = { ArrowDown: 1, ArrowUp: -1 };
      if (event.key in keys) {
        highlight((picker.index + keys[event.key] + picker.items.length) % picker.items.length);
      } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && !event.ctrlKey && !event.metaKey) {
        choose(picker.index);
      } else if (event.key === "Escape") {
        close();
      } else {
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();
    } else if (picker?.area === area && event.key === "Escape") {
      close();
      event.preventDefault();
    } else if (event.key === "Tab" && !event.shiftKey && area.value.match(BLANK)) {
      if (selectBlank(area, area.selectionEnd)) event.preventDefault();
    }
  }, true);

  document.addEventListener("mousedown", (event) => {
    const item = event.target.closest?.(".reply-picker [role=option]");
    if (item && picker) {
      event.preventDefault(); // keep the focus in the box
      choose(Number(item.dataset.index));
    } else if (picker && !event.target.closest?.(".reply-picker") && event.target !== picker.area) {
      close();
    }
  });
  // On a phone "/" is behind a keyboard's symbols: the button types it.
  document.querySelectorAll("[data-open-picker]").forEach((button) => { button.hidden = false; });
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-open-picker]");
    const area = button?.form.querySelector("textarea");
    if (!area) return;
    const at = area.selectionStart ?? area.value.length;
    const slash = at > 0 && !/\s/.test(area.value[at - 1]) ? " /" : "/";
    area.focus();
    area.value = area.value.slice(0, at) + slash + area.value.slice(area.selectionEnd ?? at);
    area.setSelectionRange(at + slash.length, at + slash.length);
    area.dispatchEvent(new Event("input", { bubbles: true }));
  });
  document.addEventListener("focusout", (event) => {
    if (picker?.area === event.target) setTimeout(() => { if (picker && document.activeElement !== picker.area) close(); }, 150);
  });
})();

// Replies through a link: the button opens the chat with our text at once (WhatsApp, e-mail; the other channels
// get it copied to paste), then the reply is logged and the page reloads to show it, with its undo.
(function () {
  "use strict";
  const BLANK = /\{\?[^{}\n]{1,40}\}/;

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).catch(() => {});
      return;
    }
    // Over the shop's network (plain http) there is no clipboard API; a selected text area still copies.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.append(area);
    area.select();
    try { document.execCommand("copy"); } catch (error) { /* the text stays in the box to copy by hand */ }
    area.remove();
  }

  const errorOf = (form) => form.querySelector("[data-reply-error]");
  function showError(form, message) {
    const box = errorOf(form);
    if (box) { box.textContent = message; box.hidden = false; } else window.alert(message);
  }

  document.querySelectorAll("[data-copy-reply]").forEach((button) => { button.hidden = false; });
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-copy-reply]");
    if (!button) return;
    copyText(button.form.querySelector("[name=text]").value.trim());
    button.textContent = button.dataset.copied;
  });

  document.addEventListener("submit", (event) => {
    const form = event.target.closest?.("form[data-reply-link]");
    if (!form || event.defaultPrevented) return;
    event.preventDefault();
    const field = form.querySelector("[name=text]");
    const text = field.value.replace(/\r\n/g, "\n").trim();
    const blank = text.match(BLANK);
    if (blank) {
      showError(form, `${form.dataset.blank} ${blank[0]}`);
      if (field.tagName === "TEXTAREA") {
        const at = field.value.indexOf(blank[0]);
        field.focus();
        field.setSelectionRange(at, at + blank[0].length);
      }
      return;
    }
    let url = form.dataset.link;
    if (text && form.dataset.param) {
      const body = form.dataset.lineBreak === "crlf" ? text.replace(/\n/g, "\r\n") : text;
      url += `?${form.dataset.param}=${encodeURIComponent(body)}`;
    } else if (text) {
      copyText(text);
    }
    window.open(url, "_blank", "noopener");
    const buttons = form.querySelectorAll("button");
    buttons.forEach((button) => { button.disabled = true; });
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then((response) => ((response.headers.get("Content-Type") || "").includes("json") ? response.json() : {}))
      .then((answer) => {
        if (!answer.ok) throw new Error(answer.error || "");
        // A fresh GET of the page: the reply in the thread, the row gone from "waiting", the undo bar.
        window.location.assign(answer.next || window.location.pathname + window.location.search);
      })
      .catch((error) => {
        buttons.forEach((button) => { button.disabled = false; });
        showError(form, error instanceof TypeError || !error?.message ? form.dataset.failed : error.message);
      });
  });

  // Ctrl+Enter sends, as it saves on Log chat; Enter alone is a new line.
  document.addEventListener("keydown", (event) => {
    const form = event.target.closest?.("form[data-reply-link]");
    if (form && event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
})();

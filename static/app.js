// Obrolan's small behaviours. Every page works without this file; it only makes logging faster.
(function () {
  "use strict";

  const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  document.addEventListener("htmx:configRequest", (event) => {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  document.addEventListener("submit", (event) => {
    const question = event.target.dataset?.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
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
  if (form && event.target.matches("select")) form.requestSubmit();
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

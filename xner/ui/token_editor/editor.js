// The review page's token editor (see __init__.py). Tokens and labels are user data: they only ever become
// textContent, title or CSS property values, never markup.
export default function (component) {
  const { data, parentElement, setStateValue, setTriggerValue } = component;
  const root = parentElement.querySelector(".xner-te");
  if (!root || !data) return undefined;
  const tokens = data.tokens || [];
  const colours = new Map(data.labels.map((l) => [l.label, l.colours]));
  const keyToLabel = new Map(data.labels.filter((l) => l.key).map((l) => [l.key, l.label]));
  // the selection survives a redraw with the same draft revision (e.g. a rerun caused by something else)
  const kept = root.__xnerState && root.__xnerState.base === data.base ? root.__xnerState : null;
  const state = {
    base: data.base,
    spans: data.spans.map((s) => [s[0], s[1], s[2]]),
    sel: kept && kept.sel && kept.sel[1] <= tokens.length ? kept.sel : null, // [start, end)
    anchor: kept ? kept.anchor : null,
    dragging: false,
  };
  root.__xnerState = state;

  const spanAt = (i) => state.spans.find((s) => s[0] <= i && i < s[1]);
  const selected = (i) => state.sel !== null && state.sel[0] <= i && i < state.sel[1];

  function tokenElement(i) {
    const element = document.createElement("span");
    element.className = selected(i) ? "xner-te-tok xner-te-sel" : "xner-te-tok";
    element.dataset.i = String(i);
    element.textContent = tokens[i];
    element.title = `${i}: ${tokens[i]}`;
    return element;
  }

  function draw() {
    const parts = [];
    for (let i = 0; i < tokens.length; ) {
      const span = state.spans.find((s) => s[0] === i);
      if (!span) {
        parts.push(tokenElement(i));
        i += 1;
        continue;
      }
      const box = document.createElement("span");
      box.className = "xner-te-ent";
      const [background, border] = colours.get(span[2]) || ["#eeeeee", "#999999"];
      box.style.background = background;
      box.style.borderColor = border;
      box.title = span[2];
      for (let k = span[0]; k < Math.min(span[1], tokens.length); k += 1) {
        if (k > span[0]) box.append(" ");
        box.append(tokenElement(k));
      }
      const label = document.createElement("sub");
      label.textContent = span[2];
      box.append(label);
      parts.push(box);
      i = span[1];
    }
    const line = root.querySelector(".xner-te-tokens");
    line.replaceChildren();
    parts.forEach((part, n) => {
      if (n > 0) line.append(" ");
      line.append(part);
    });
    if (!state.spans.length) {
      const none = document.createElement("i");
      none.className = "xner-te-none";
      none.textContent = " (no entity)";
      line.append(none);
    }
  }

  function drawKeys() {
    const keys = root.querySelector(".xner-te-keys");
    keys.replaceChildren();
    for (const { label, key, colours: pair } of data.labels) {
      if (!key) continue;
      const chip = document.createElement("span");
      chip.className = "xner-te-key";
      chip.style.background = pair[0];
      chip.style.borderColor = pair[1];
      const kbd = document.createElement("kbd");
      kbd.textContent = key;
      chip.append(kbd, label);
      keys.append(chip);
    }
    keys.append("select tokens (click, shift-click or drag), then a key · Backspace deletes · Ctrl+Enter saves");
  }

  function select(start, end) {
    state.sel = [Math.max(0, start), Math.min(tokens.length, end)];
    draw();
  }

  function selectFrom(anchor, i) {
    select(Math.min(anchor, i), Math.max(anchor, i) + 1);
  }

  function commit(spans) {
    state.spans = spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    state.sel = null;
    state.anchor = null;
    draw();
    setStateValue("draft", { spans: state.spans, base: state.base });
  }

  const outsideSelection = (s) => !(s[0] < state.sel[1] && state.sel[0] < s[1]);

  function onMouseDown(event) {
    const target = event.target.closest ? event.target.closest(".xner-te-tok") : null;
    event.preventDefault(); // no text selection; focus is given below
    root.focus({ preventScroll: true });
    if (!target) return;
    const i = Number(target.dataset.i);
    if (event.shiftKey && state.anchor !== null) {
      selectFrom(state.anchor, i);
      return;
    }
    const span = spanAt(i);
    const whole = span && !(state.sel && state.sel[0] === span[0] && state.sel[1] === span[1]);
    state.anchor = whole ? span[0] : i;
    state.dragging = true;
    if (whole) select(span[0], span[1]);
    else select(i, i + 1);
  }

  function onMouseOver(event) {
    if (!state.dragging || state.anchor === null) return;
    const target = event.target.closest ? event.target.closest(".xner-te-tok") : null;
    if (target) selectFrom(state.anchor, Number(target.dataset.i));
  }

  function onMouseUp() {
    state.dragging = false;
  }

  function onKeyDown(event) {
    const handled = () => {
      event.preventDefault();
      event.stopPropagation();
    };
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      if (!data.can_save) return; // the page's own shortcut (and its disabled button) decide
      handled();
      setTriggerValue("save", { spans: state.spans, base: state.base });
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      if (!tokens.length) return;
      handled();
      const step = event.key === "ArrowRight" ? 1 : -1;
      if (state.sel === null) {
        state.anchor = 0;
        select(0, 1);
      } else if (event.shiftKey) {
        const far = state.sel[0] < state.anchor ? state.sel[0] : state.sel[1] - 1;
        selectFrom(state.anchor, Math.min(tokens.length - 1, Math.max(0, far + step)));
      } else {
        const i = Math.min(tokens.length - 1, Math.max(0, (step > 0 ? state.sel[1] - 1 : state.sel[0]) + step));
        state.anchor = i;
        select(i, i + 1);
      }
      return;
    }
    if (event.key === "Escape" && state.sel !== null) {
      handled();
      state.sel = null;
      draw();
      return;
    }
    if (state.sel === null) return;
    if (keyToLabel.has(event.key)) {
      handled();
      commit([...state.spans.filter(outsideSelection), [state.sel[0], state.sel[1], keyToLabel.get(event.key)]]);
    } else if (event.key === "Backspace" || event.key === "Delete") {
      handled();
      commit(state.spans.filter(outsideSelection));
    }
  }

  draw();
  drawKeys();
  root.addEventListener("mousedown", onMouseDown);
  root.addEventListener("mouseover", onMouseOver);
  root.addEventListener("keydown", onKeyDown);
  document.addEventListener("mouseup", onMouseUp);
  return () => {
    root.removeEventListener("mousedown", onMouseDown);
    root.removeEventListener("mouseover", onMouseOver);
    root.removeEventListener("keydown", onKeyDown);
    document.removeEventListener("mouseup", onMouseUp);
  };
}

// A small YAML writer for scenario documents (plain data: mappings, lists, strings, numbers,
// booleans, null). Strings are quoted whenever YAML could read them as something else.

const PLAIN = /^[A-Za-z_][A-Za-z0-9_ .\/-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|null|~|y|n)$/i;

function scalar(v) {
  if (v === null || v === undefined) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "null";
  const str = String(v);
  if (PLAIN.test(str) && !RESERVED.test(str) && !str.endsWith(" ")) return str;
  return JSON.stringify(str); // a JSON string is a valid double-quoted YAML scalar
}

const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

function lines(v, indent) {
  const pad = " ".repeat(indent);
  if (Array.isArray(v)) {
    if (!v.length) return null;
    return v.flatMap((item) => {
      if (isObj(item) || Array.isArray(item)) {
        const inner = lines(item, indent + 2);
        if (inner === null) return [`${pad}- ${Array.isArray(item) ? "[]" : "{}"}`];
        return [`${pad}- ${inner[0].trimStart()}`, ...inner.slice(1)];
      }
      return [`${pad}- ${scalar(item)}`];
    });
  }
  if (isObj(v)) {
    const keys = Object.keys(v);
    if (!keys.length) return null;
    return keys.flatMap((k) => {
      const val = v[k];
      if (isObj(val) || Array.isArray(val)) {
        const inner = lines(val, indent + 2);
        return inner === null ? [`${pad}${scalar(k)}: ${Array.isArray(val) ? "[]" : "{}"}`]
          : [`${pad}${scalar(k)}:`, ...inner];
      }
      return [`${pad}${scalar(k)}: ${scalar(val)}`];
    });
  }
  return [`${pad}${scalar(v)}`];
}

export function toYaml(doc) {
  return `${(lines(doc, 0) || ["{}"]).join("\n")}\n`;
}

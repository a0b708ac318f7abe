import { isValidIsoDate } from "../common/labels";

export type AsAtParse =
  { kind: "empty" } | { kind: "valid"; date: string } | { kind: "invalid"; message: string };

/** Parses the as-at text box: empty = no filter, YYYY-MM-DD real date = apply, else an error. */
export function parseAsAt(text: string): AsAtParse {
  const t = text.trim();
  if (t === "") return { kind: "empty" };
  if (isValidIsoDate(t)) return { kind: "valid", date: t };
  if (/^\d{4}-\d{2}-\d{2}$/.test(t))
    return { kind: "invalid", message: `${t} is not a real date.` };
  return { kind: "invalid", message: "Enter the date as YYYY-MM-DD, e.g. 2024-06-30." };
}

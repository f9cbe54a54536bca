// Applying a live change (an event "store" of /api/events) to the page of
// stores on screen, so the list follows the API without a reload.
import type { StoreList, StoreRecord } from './api'

export interface ListFilter {
  status: string
  engine: string
  /** firstPage: new stores appear only on the first page (newest first). */
  firstPage: boolean
  limit: number
}

export function matches(rec: StoreRecord, f: ListFilter): boolean {
  const phaseOK = f.status ? rec.phase === f.status : rec.phase !== 'deleted'
  return phaseOK && (!f.engine || rec.engine === f.engine)
}

const ms = (t: string) => Date.parse(t)

/** isOlder says whether a is an older state of the store than b. */
export function isOlder(a: StoreRecord, b: StoreRecord): boolean {
  return a.generation < b.generation || (a.generation === b.generation && ms(a.updatedAt) < ms(b.updatedAt))
}

export function applyChange(list: StoreList, rec: StoreRecord, f: ListFilter): StoreList {
  const i = list.items.findIndex((r) => r.name === rec.name)
  if (i >= 0) {
    const cur = list.items[i]
    if (isOlder(rec, cur)) return list
    const items = list.items.slice()
    if (matches(rec, f)) items[i] = rec
    else items.splice(i, 1)
    return { ...list, items }
  }
  if (!f.firstPage || !matches(rec, f)) return list
  // Only stores newer than the page's oldest belong on it (or any, while it has room).
  const oldest = list.items[list.items.length - 1]
  if (list.items.length >= f.limit && oldest && ms(rec.createdAt) < ms(oldest.createdAt)) return list
  const items = [rec, ...list.items].sort((a, b) => ms(b.createdAt) - ms(a.createdAt))
  return { ...list, items: items.slice(0, Math.max(f.limit, list.items.length)) }
}

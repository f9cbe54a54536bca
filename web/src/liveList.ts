// Applying a live change (an event "store" of /api/events) to the page of
// stores on screen, so the list follows the API without a reload.
import { phases, type StoreList, type StoreRecord } from './api'

export interface ListFilter {
  status: string
  engine: string
  /** name is the prefix of the names shown (the search box); owner the tenant (admins). */
  name: string
  owner: string
  /** firstPage: new stores appear only on the first page (newest first). */
  firstPage: boolean
  limit: number
}

export function matches(rec: StoreRecord, f: ListFilter): boolean {
  const phaseOK = f.status ? rec.phase === f.status : rec.phase !== 'deleted'
  return (
    phaseOK &&
    (!f.engine || rec.engine === f.engine) &&
    rec.name.startsWith(f.name) &&
    (!f.owner || rec.owner === f.owner)
  )
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

/** SortKey is a column the list sorts by. */
export type SortKey = 'name' | 'created' | 'phase'
export type SortOrder = 'asc' | 'desc'

/** defaultOrder is the order a column sorts in when it is chosen: newest first for created. */
export const defaultOrder: Record<SortKey, SortOrder> = { name: 'asc', created: 'desc', phase: 'asc' }

const compare: Record<SortKey, (a: StoreRecord, b: StoreRecord) => number> = {
  name: (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  created: (a, b) => ms(a.createdAt) - ms(b.createdAt),
  // Phases in their lifecycle's order: requested, provisioning, ready, ...
  phase: (a, b) => phases.indexOf(a.phase) - phases.indexOf(b.phase),
}

/**
 * sortStores orders the stores on screen (the page the API answered, not
 * every store); ties keep the API's order, newest first.
 */
export function sortStores(items: StoreRecord[], key: SortKey, order: SortOrder): StoreRecord[] {
  const sign = order === 'asc' ? 1 : -1
  return items
    .map((r, i) => [r, i] as const)
    .sort(([a, i], [b, j]) => sign * compare[key](a, b) || i - j)
    .map(([r]) => r)
}

import { describe, expect, it } from 'vitest'
import type { StoreList, StoreRecord } from './api'
import { applyChange, type ListFilter } from './liveList'

const r = (name: string, over: Partial<StoreRecord> = {}): StoreRecord => ({
  name,
  generation: 1,
  engine: 'woocommerce',
  host: `${name}.x`,
  phase: 'provisioning',
  namespace: `store-${name}`,
  createdAt: '2026-11-26T10:00:00Z',
  updatedAt: '2026-11-26T10:00:00Z',
  ...over,
})
const list = (...items: StoreRecord[]): StoreList => ({ items })
const all: ListFilter = { status: '', engine: '', name: '', owner: '', firstPage: true, limit: 3 }
const names = (l: StoreList) => l.items.map((i) => `${i.name}:${i.phase}`).join(' ')

describe('applyChange', () => {
  it.each<[string, StoreList, StoreRecord, ListFilter, string]>([
    ['updates a store in place', list(r('a'), r('b')), r('b', { phase: 'ready', updatedAt: '2026-11-26T10:00:05.5Z' }), all, 'a:provisioning b:ready'],
    ['ignores an older state', list(r('a', { phase: 'ready', updatedAt: '2026-11-26T10:00:05Z' })), r('a', { updatedAt: '2026-11-26T10:00:01.999Z' }), all, 'a:ready'],
    ['removes a deleted store', list(r('a'), r('b')), r('a', { phase: 'deleted', updatedAt: '2026-11-26T10:01:00Z' }), all, 'b:provisioning'],
    ['removes a store that leaves the filter', list(r('a')), r('a', { phase: 'ready', updatedAt: '2026-11-26T10:01:00Z' }), { ...all, status: 'provisioning' }, ''],
    ['adds a new store on top of the first page', list(r('a')), r('n', { createdAt: '2026-11-26T11:00:00Z' }), all, 'n:provisioning a:provisioning'],
    ['does not add a store on a later page', list(r('a')), r('n', { createdAt: '2026-11-26T11:00:00Z' }), { ...all, firstPage: false }, 'a:provisioning'],
    ['does not add a store of another engine', list(r('a')), r('m', { engine: 'medusa' }), { ...all, engine: 'woocommerce' }, 'a:provisioning'],
    ['does not add a deleted store', list(r('a')), r('d', { phase: 'deleted' }), all, 'a:provisioning'],
    ['adds a store that matches the search', list(r('shop-a')), r('shop-b', { createdAt: '2026-11-26T11:00:00Z' }), { ...all, name: 'shop' }, 'shop-b:provisioning shop-a:provisioning'],
    ['does not add a store outside the search', list(r('shop-a')), r('other', { createdAt: '2026-11-26T11:00:00Z' }), { ...all, name: 'shop' }, 'shop-a:provisioning'],
    ['does not add a store of another owner', list(r('a', { owner: 'acme' })), r('g', { owner: 'globex' }), { ...all, owner: 'acme' }, 'a:provisioning'],
    [
      'does not add an old store to a full page',
      list(r('a', { createdAt: '2026-11-26T12:00:00Z' }), r('b', { createdAt: '2026-11-26T11:00:00Z' }), r('c', { createdAt: '2026-11-26T10:30:00Z' })),
      r('old', { createdAt: '2026-11-26T09:00:00Z' }),
      all,
      'a:provisioning b:provisioning c:provisioning',
    ],
  ])('%s', (_, l, rec, f, want) => {
    expect(names(applyChange(l, rec, f))).toBe(want)
  })
})

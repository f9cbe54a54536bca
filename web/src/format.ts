import type { Phase } from './api'

/** age is a short "how long ago": 45s, 12m, 3h, 5d. */
export function age(since: string, now: number): string {
  const s = Math.max(0, Math.floor((now - Date.parse(since)) / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m`
  if (s < 86400) return `${Math.floor(s / 3600)}h`
  return `${Math.floor(s / 86400)}d`
}

const phaseLabels: Record<Phase, string> = {
  requested: 'Requested',
  provisioning: 'Provisioning',
  ready: 'Ready',
  updating: 'Updating',
  suspended: 'Suspended',
  degraded: 'Degraded',
  failed: 'Failed',
  deleting: 'Deleting',
  deletion_stuck: 'Deletion stuck',
  deleted: 'Deleted',
}

export function phaseLabel(p: Phase): string {
  return phaseLabels[p] ?? p
}

export function engineLabel(e: string): string {
  return e === 'woocommerce' ? 'WooCommerce' : e === 'medusa' ? 'Medusa' : e
}

/** duration is a short length of time: 850ms, 12s, 2m 5s, 1h 3m. */
export function duration(ms: number): string {
  if (ms < 0) ms = 0
  if (ms < 1000) return `${Math.round(ms)}ms`
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return s % 60 ? `${m}m ${s % 60}s` : `${m}m`
  const h = Math.floor(m / 60)
  return m % 60 ? `${h}h ${m % 60}m` : `${h}h`
}

/** between is the duration from one RFC 3339 time to another. */
export function between(from: string, to: string): string {
  return duration(Date.parse(to) - Date.parse(from))
}

/** when is an RFC 3339 time in the reader's locale. */
export function when(t: string): string {
  return new Date(t).toLocaleString()
}

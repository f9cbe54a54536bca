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

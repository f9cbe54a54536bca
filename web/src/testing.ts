// Fixtures shared by the Vitest tests: the answers of the API they fake.
import type { Sizes } from './api'

/** json is a JSON response of the API. */
export const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })

/** problem is a problem+json response of the API. */
export const problem = (status: number, body: object) =>
  new Response(JSON.stringify({ status, ...body }), { status, headers: { 'Content-Type': 'application/problem+json' } })

const wc = (wordpress: number, cpu: string, memory: string) => ({
  woocommerce: {
    wordpress: { replicas: wordpress, resources: { requests: { cpu, memory } } },
    mariadb: { replicas: 1, resources: { requests: { cpu: '100m', memory: '256Mi' } } },
  },
  medusa: {
    'medusa-server': { replicas: wordpress + 1, resources: { requests: { cpu, memory } } },
    'medusa-worker': { replicas: 1, resources: null },
    postgresql: { replicas: 1, resources: null },
    redis: { replicas: 1, resources: null },
  },
})

/** sizes is a GET /api/sizes of the local profile's shape: small (the default), medium and large. */
export const sizes: Sizes = {
  profile: 'local',
  default: 'small',
  items: [
    {
      name: 'small',
      quota: { 'requests.cpu': '1', 'limits.cpu': '3', 'requests.memory': '2Gi', 'limits.memory': '4Gi', pods: '10' },
      workloads: wc(1, '100m', '128Mi'),
      volumes: { wordpress: '1Gi', mariadb: '1Gi', postgresql: '1Gi' },
    },
    {
      name: 'medium',
      quota: { 'requests.cpu': '2', 'limits.cpu': '6', 'requests.memory': '4Gi', 'limits.memory': '8Gi', pods: '15' },
      workloads: wc(1, '200m', '256Mi'),
      volumes: { wordpress: '2Gi', mariadb: '2Gi', postgresql: '2Gi' },
    },
    {
      name: 'large',
      quota: { 'requests.cpu': '4', 'limits.cpu': '16', 'requests.memory': '8Gi', 'limits.memory': '20Gi', pods: '20' },
      workloads: wc(2, '400m', '512Mi'),
      volumes: { wordpress: '5Gi', mariadb: '5Gi', postgresql: '5Gi' },
    },
  ],
}

import react from '@vitejs/plugin-react'
import { defineConfig } from 'vitest/config'

// `npm run dev` serves the dashboard with hot reload and sends the API's
// paths to a running `storeplatform api` (or `make dev`): STOREPLATFORM_API,
// default http://127.0.0.1:8080.
const api = process.env.STOREPLATFORM_API ?? 'http://127.0.0.1:8080'

export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    strictPort: true,
    proxy: Object.fromEntries(['/api', '/health', '/openapi.json', '/docs', '/metrics'].map((p) => [p, { target: api }])),
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
  },
})

import path from "node:path"
import { defineConfig, loadEnv, Modules } from "@medusajs/framework/utils"

// Every setting comes from the environment that Store Platform's store chart
// passes (charts/store/templates/_helpers.tpl, store.medusaEnv). README.md
// lists the contract; check-config.mjs proves the built config follows it.
loadEnv(process.env.NODE_ENV || "development", process.cwd())

const env = process.env

// set returns the variables that are set and not empty, so that an unset one
// keeps Medusa's default (a development secret, localhost CORS) instead of
// overriding it with undefined. In production Medusa refuses to start without
// JWT_SECRET and COOKIE_SECRET.
function set(names: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, name] of Object.entries(names)) {
    if (env[name]) {
      out[key] = env[name] as string
    }
  }
  return out
}

// oneOf returns the variable's value when it is one of the allowed values,
// the fallback when it is unset or empty, and stops the process otherwise: a
// typo in a security setting must not silently pick a default.
function oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
  const value = env[name]
  if (value === undefined || value === "") {
    return fallback
  }
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`${name}="${value}": expected one of ${allowed.join(", ")}`)
  }
  return value as T
}

const port = env.PORT || "9000"
const backendUrl = (env.MEDUSA_BACKEND_URL || `http://localhost:${port}`).replace(/\/+$/, "")
const redisUrl = env.REDIS_URL || undefined

const workerMode = oneOf("MEDUSA_WORKER_MODE", ["shared", "worker", "server"] as const, "shared")
const adminDisabled = oneOf("DISABLE_MEDUSA_ADMIN", ["true", "false"] as const, "false") === "true"

// COOKIE_SECURE says whether the store is served over TLS. With
// NODE_ENV=production Medusa marks the session cookie Secure by default, and a
// browser on plain HTTP then never sends it back: admin login fails. SameSite
// stays "lax" either way (SameSite=None would need Secure, and lax is what
// Medusa itself uses in production against cross-site POSTs). Unset: Medusa's
// own defaults.
const cookieOptions = env.COOKIE_SECURE
  ? {
      secure: oneOf("COOKIE_SECURE", ["true", "false"] as const, "false") === "true",
      sameSite: "lax" as const,
    }
  : undefined

// Medusa serves <working directory>/static at /static, and nothing else: an
// upload dir elsewhere is written but never served. The image's working
// directory is /server, so its default MEDUSA_UPLOAD_DIR is /server/static (the
// chart's default medusa.uploads.mountPath).
const servedDir = path.join(process.cwd(), "static")
const uploadDir = path.resolve(env.MEDUSA_UPLOAD_DIR || servedDir)
if (uploadDir !== servedDir && !env.S3_BUCKET) {
  console.warn(
    `MEDUSA_UPLOAD_DIR=${uploadDir} is not ${servedDir}: uploads are stored there but Medusa serves only ${servedDir} at /static`
  )
}

const fileProvider = env.S3_BUCKET
  ? {
      resolve: "@medusajs/medusa/file-s3",
      id: "s3",
      options: {
        bucket: env.S3_BUCKET,
        region: env.S3_REGION,
        endpoint: env.S3_ENDPOINT || undefined,
        file_url: env.S3_FILE_URL,
        access_key_id: env.S3_ACCESS_KEY_ID,
        secret_access_key: env.S3_SECRET_ACCESS_KEY,
        // S3-compatible stores (MinIO, Ceph, R2) want bucket names in the path.
        additional_client_config: env.S3_ENDPOINT ? { forcePathStyle: true } : {},
      },
    }
  : {
      resolve: "@medusajs/medusa/file-local",
      id: "local",
      options: {
        upload_dir: uploadDir,
        // Medusa's local provider writes private files next to public ones
        // unless told otherwise; keep both on the mounted volume.
        private_upload_dir: uploadDir,
        backend_url: `${backendUrl}/static`,
      },
    }

// Without REDIS_URL (a developer's `npm run dev`) Medusa keeps its in-memory
// event bus, workflow engine, locking and cache; those work for one process
// only, so the chart always sets REDIS_URL.
const redisModules = redisUrl
  ? [
      {
        key: Modules.EVENT_BUS,
        resolve: "@medusajs/medusa/event-bus-redis",
        options: { redisUrl },
      },
      {
        key: Modules.WORKFLOW_ENGINE,
        resolve: "@medusajs/medusa/workflow-engine-redis",
        options: { redis: { redisUrl } },
      },
      {
        key: Modules.LOCKING,
        resolve: "@medusajs/medusa/locking",
        options: {
          providers: [
            {
              id: "locking-redis",
              resolve: "@medusajs/medusa/locking-redis",
              is_default: true,
              options: { redisUrl },
            },
          ],
        },
      },
      {
        key: Modules.CACHE,
        resolve: "@medusajs/medusa/cache-redis",
        options: { redisUrl },
      },
    ]
  : []

module.exports = defineConfig({
  projectConfig: {
    ...set({ databaseUrl: "DATABASE_URL", redisUrl: "REDIS_URL" }),
    workerMode,
    cookieOptions,
    http: set({
      storeCors: "STORE_CORS",
      adminCors: "ADMIN_CORS",
      authCors: "AUTH_CORS",
      jwtSecret: "JWT_SECRET",
      cookieSecret: "COOKIE_SECRET",
    }) as { storeCors: string; adminCors: string; authCors: string },
  },
  admin: {
    disable: adminDisabled,
    // The admin is built into the image and talks to the server it is served
    // from, so one image fits every store host.
    backendUrl: "/",
    // Baked in at build time; matches the chart's default uploads.maxSize (64M).
    maxUploadFileSize: 64 * 1024 * 1024,
  },
  modules: [
    ...redisModules,
    {
      key: Modules.FILE,
      resolve: "@medusajs/medusa/file",
      options: { providers: [fileProvider] },
    },
  ],
})

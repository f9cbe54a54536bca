// check-config.mjs loads the BUILT Medusa config (.medusa/server/medusa-config.js,
// what the image runs) under the environment the store chart passes
// (charts/store/templates/_helpers.tpl, store.medusaEnv) and fails when a
// setting does not come from it. Run it after `npx medusa build`:
//
//   node check-config.mjs
//
// It needs no database or Redis: it checks the configuration Medusa is handed,
// and asks the installed Medusa how it reads the chart's DATABASE_URL.
import { createRequire } from "node:module"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { isDeepStrictEqual, inspect } from "node:util"

const here = path.dirname(fileURLToPath(import.meta.url))
const serverDir = path.join(here, ".medusa", "server")
const configPath = path.join(serverDir, "medusa-config.js")
// Resolve packages the way the built server does: from .medusa/server.
const require = createRequire(configPath)

// Every variable the config reads; each load starts with none of them set.
const CONTRACT = [
  "DATABASE_URL", "REDIS_URL", "JWT_SECRET", "COOKIE_SECRET", "STORE_CORS",
  "ADMIN_CORS", "AUTH_CORS", "MEDUSA_BACKEND_URL", "PORT", "NODE_ENV",
  "MEDUSA_WORKER_MODE", "DISABLE_MEDUSA_ADMIN", "COOKIE_SECURE", "MEDUSA_UPLOAD_DIR",
  "S3_BUCKET", "S3_REGION", "S3_ENDPOINT", "S3_FILE_URL", "S3_ACCESS_KEY_ID",
  "S3_SECRET_ACCESS_KEY",
]

// What the chart passes to a store served over plain HTTP (values as in
// store.medusaEnv, with made-up secrets and hosts).
const chartEnv = {
  DATABASE_URL: "postgres://medusa:db-secret@shop-store-postgresql:5432/medusa?sslmode=disable",
  REDIS_URL: "redis://:redis-secret@shop-store-redis:6379",
  JWT_SECRET: "jwt-secret-from-the-chart",
  COOKIE_SECRET: "cookie-secret-from-the-chart",
  STORE_CORS: "http://shop.example.test",
  ADMIN_CORS: "http://admin.example.test",
  AUTH_CORS: "http://auth.example.test",
  MEDUSA_BACKEND_URL: "http://shop.example.test",
  PORT: "9000",
  NODE_ENV: "production",
  MEDUSA_WORKER_MODE: "server",
  COOKIE_SECURE: "false",
  MEDUSA_UPLOAD_DIR: "/var/lib/medusa-check/uploads",
}

let passed = 0
const failures = []

function check(what, actual, expected) {
  if (isDeepStrictEqual(actual, expected)) {
    passed++
    return
  }
  failures.push(`${what}: got ${inspect(actual, { depth: 5 })}, want ${inspect(expected, { depth: 5 })}`)
}

// load requires the built config afresh with exactly these variables set, from
// .medusa/server as the working directory (the image's WORKDIR holds the same
// files), and returns the config, or the error it threw, with its warnings.
function load(vars) {
  const savedEnv = { ...process.env }
  const savedCwd = process.cwd()
  const savedWarn = console.warn
  const warnings = []
  for (const name of CONTRACT) delete process.env[name]
  Object.assign(process.env, vars)
  process.chdir(serverDir)
  console.warn = (...args) => warnings.push(args.join(" "))
  delete require.cache[configPath]
  try {
    return { config: require(configPath), warnings }
  } catch (error) {
    return { error, warnings }
  } finally {
    console.warn = savedWarn
    process.chdir(savedCwd)
    for (const name of Object.keys(process.env)) {
      if (!(name in savedEnv)) delete process.env[name]
    }
    Object.assign(process.env, savedEnv)
  }
}

function loadOrFail(scenario, vars) {
  const result = load(vars)
  if (result.error) {
    failures.push(`${scenario}: the config threw: ${result.error.message}`)
    return null
  }
  return result
}

// provider returns the one provider of a module with providers (file, locking).
function provider(config, moduleKey) {
  const providers = config.modules?.[moduleKey]?.options?.providers ?? []
  return providers.length === 1 ? providers[0] : { providers }
}

function checkRedis(scenario, config, redisUrl) {
  const m = config.modules ?? {}
  check(`${scenario}: projectConfig.redisUrl`, config.projectConfig.redisUrl, redisUrl)
  check(`${scenario}: event bus module`, m.event_bus?.resolve, "@medusajs/medusa/event-bus-redis")
  check(`${scenario}: event bus redisUrl`, m.event_bus?.options?.redisUrl, redisUrl)
  check(`${scenario}: workflow engine module`, m.workflows?.resolve, "@medusajs/medusa/workflow-engine-redis")
  check(`${scenario}: workflow engine redis.redisUrl`, m.workflows?.options?.redis?.redisUrl, redisUrl)
  const lock = provider(config, "locking")
  check(`${scenario}: locking provider`, lock.resolve, "@medusajs/medusa/locking-redis")
  check(`${scenario}: locking provider is the default`, lock.is_default, true)
  check(`${scenario}: locking provider redisUrl`, lock.options?.redisUrl, redisUrl)
  check(`${scenario}: cache module`, m.cache?.resolve, "@medusajs/medusa/cache-redis")
  check(`${scenario}: cache redisUrl`, m.cache?.options?.redisUrl, redisUrl)
}

// Every module and provider the config names must resolve from .medusa/server,
// as it will in the image after `npm ci --omit=dev` there.
function checkResolvable(scenario, config) {
  const names = []
  for (const mod of Object.values(config.modules ?? {})) {
    if (typeof mod?.resolve === "string") names.push(mod.resolve)
    for (const p of mod?.options?.providers ?? []) {
      if (typeof p.resolve === "string") names.push(p.resolve)
    }
  }
  for (const name of names) {
    let ok = true
    try {
      require.resolve(name)
    } catch {
      ok = false
    }
    check(`${scenario}: ${name} resolves from .medusa/server`, ok, true)
  }
}

// 1. The web server of a store served over plain HTTP.
{
  const s = "server over HTTP"
  const r = loadOrFail(s, chartEnv)
  if (r) {
    const { projectConfig: p, admin } = r.config
    check(`${s}: databaseUrl`, p.databaseUrl, chartEnv.DATABASE_URL)
    check(`${s}: workerMode`, p.workerMode, "server")
    check(`${s}: http.storeCors`, p.http.storeCors, chartEnv.STORE_CORS)
    check(`${s}: http.adminCors`, p.http.adminCors, chartEnv.ADMIN_CORS)
    check(`${s}: http.authCors`, p.http.authCors, chartEnv.AUTH_CORS)
    check(`${s}: http.jwtSecret`, p.http.jwtSecret, chartEnv.JWT_SECRET)
    check(`${s}: http.cookieSecret`, p.http.cookieSecret, chartEnv.COOKIE_SECRET)
    check(`${s}: session cookie (COOKIE_SECURE=false)`, p.cookieOptions, { secure: false, sameSite: "lax" })
    check(`${s}: admin.disable`, admin.disable, false)
    checkRedis(s, r.config, chartEnv.REDIS_URL)
    const file = provider(r.config, "file")
    check(`${s}: file provider`, file.resolve, "@medusajs/medusa/file-local")
    check(`${s}: upload_dir`, file.options?.upload_dir, chartEnv.MEDUSA_UPLOAD_DIR)
    check(`${s}: private_upload_dir`, file.options?.private_upload_dir, chartEnv.MEDUSA_UPLOAD_DIR)
    check(`${s}: backend_url`, file.options?.backend_url, "http://shop.example.test/static")
    check(`${s}: warns that an upload dir outside ./static is not served`,
      r.warnings.some((w) => w.includes("MEDUSA_UPLOAD_DIR")), true)
    checkResolvable(s, r.config)
  }
}

// 2. The worker of a store served over TLS, with the image's default upload dir.
{
  const s = "worker over TLS"
  const vars = {
    ...chartEnv,
    MEDUSA_BACKEND_URL: "https://shop.example.test/",
    COOKIE_SECURE: "true",
    MEDUSA_WORKER_MODE: "worker",
    DISABLE_MEDUSA_ADMIN: "true",
  }
  delete vars.MEDUSA_UPLOAD_DIR
  const r = loadOrFail(s, vars)
  if (r) {
    const { projectConfig: p, admin } = r.config
    check(`${s}: workerMode`, p.workerMode, "worker")
    check(`${s}: admin.disable`, admin.disable, true)
    check(`${s}: session cookie (COOKIE_SECURE=true)`, p.cookieOptions, { secure: true, sameSite: "lax" })
    checkRedis(s, r.config, vars.REDIS_URL)
    const file = provider(r.config, "file")
    check(`${s}: default upload_dir is the served ./static`, file.options?.upload_dir, path.join(serverDir, "static"))
    check(`${s}: backend_url`, file.options?.backend_url, "https://shop.example.test/static")
    check(`${s}: no warning about the upload dir`, r.warnings, [])
  }
}

// 3. Uploads to S3 instead of the volume; no MEDUSA_BACKEND_URL, so PORT counts.
{
  const s = "S3 uploads"
  const vars = {
    ...chartEnv,
    MEDUSA_BACKEND_URL: "",
    PORT: "9100",
    S3_BUCKET: "shop-uploads",
    S3_REGION: "eu-west-1",
    S3_ENDPOINT: "https://s3.example.test",
    S3_FILE_URL: "https://cdn.example.test/shop-uploads",
    S3_ACCESS_KEY_ID: "access-key",
    S3_SECRET_ACCESS_KEY: "secret-key",
  }
  const r = loadOrFail(s, vars)
  if (r) {
    const file = provider(r.config, "file")
    check(`${s}: file provider`, file.resolve, "@medusajs/medusa/file-s3")
    check(`${s}: S3 options`, file.options, {
      bucket: "shop-uploads",
      region: "eu-west-1",
      endpoint: "https://s3.example.test",
      file_url: "https://cdn.example.test/shop-uploads",
      access_key_id: "access-key",
      secret_access_key: "secret-key",
      additional_client_config: { forcePathStyle: true },
    })
    checkResolvable(s, r.config)
  }
  const local = loadOrFail(`${s} (no backend URL)`, { ...vars, S3_BUCKET: "" })
  if (local) {
    check(`${s}: backend_url falls back to localhost:PORT`,
      provider(local.config, "file").options?.backend_url, "http://localhost:9100/static")
  }
}

// 4. Misspelt values stop the process instead of picking a default.
for (const [name, value] of [["COOKIE_SECURE", "yes"], ["MEDUSA_WORKER_MODE", "both"], ["DISABLE_MEDUSA_ADMIN", "1"]]) {
  const r = load({ ...chartEnv, [name]: value })
  check(`${name}=${value} is refused`, Boolean(r.error?.message?.includes(name)), true)
}

// 5. The installed Medusa reads the chart's sslmode=disable as "no TLS" for its
// modules' connections (Medusa 2.10 and older tried TLS for any host but
// localhost unless the URL said ssl_mode=disable).
{
  const { ModulesSdkUtils } = require("@medusajs/framework/utils")
  const saved = process.env.DATABASE_URL
  process.env.DATABASE_URL = chartEnv.DATABASE_URL
  try {
    const db = ModulesSdkUtils.loadDatabaseConfig("product", undefined)
    check("Medusa reads sslmode=disable as no TLS", db.driverOptions?.connection?.ssl, false)
  } finally {
    if (saved === undefined) delete process.env.DATABASE_URL
    else process.env.DATABASE_URL = saved
  }
}

for (const failure of failures) console.error(`FAIL ${failure}`)
console.log(`check-config: ${passed} passed, ${failures.length} failed`)
process.exit(failures.length ? 1 : 0)

{{/*
Name prefix of every object: the release name, which the platform sets to the
store name.
*/}}
{{- define "store.fullname" -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels every object carries. */}}
{{- define "store.labels" -}}
app.kubernetes.io/name: store
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: store-platform
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
storeplatform.io/store: {{ .Values.store.name }}
storeplatform.io/engine: {{ .Values.store.engine }}
{{- end -}}

{{/* Labels of one component (pass a dict: ctx, component). */}}
{{- define "store.componentLabels" -}}
{{ include "store.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Selector of one component (pass a dict: ctx, component). */}}
{{- define "store.selector" -}}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* image reference "repository:tag" (pass the image block). */}}
{{- define "store.image" -}}
{{- if hasPrefix "@" .tag -}}{{ .repository }}{{ .tag }}{{- else -}}{{ .repository }}:{{ .tag }}{{- end -}}
{{- end -}}

{{/* The name of the Secret with the store's credentials. */}}
{{- define "store.secret" -}}
{{- required "store.existingSecret is required: the platform creates the store's Secret before install" .Values.store.existingSecret -}}
{{- end -}}

{{/* Pod-level securityContext compatible with the "restricted" Pod Security Standard. */}}
{{- define "store.podSecurity" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level securityContext compatible with "restricted". */}}
{{- define "store.containerSecurity" -}}
allowPrivilegeEscalation: false
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* The store's public URL. */}}
{{- define "store.url" -}}
{{- if .Values.ingress.tls.enabled -}}https{{- else -}}http{{- end -}}://{{ .Values.store.host }}
{{- end -}}

{{/* A PVC spec (pass a dict: ctx, size, accessMode). */}}
{{- define "store.pvcSpec" -}}
accessModes: [{{ .accessMode | default "ReadWriteOnce" }}]
{{- with .ctx.Values.storageClass }}
storageClassName: {{ . }}
{{- end }}
resources:
  requests:
    storage: {{ .size }}
{{- end -}}

{{/*
Environment of every WordPress container: the database connection, the
table prefix, and the eight keys and salts, all from the store's Secret.
*/}}
{{- define "store.wordpressEnv" -}}
{{- $secret := include "store.secret" . -}}
- {name: WORDPRESS_DB_HOST, value: "{{ include "store.fullname" . }}-mariadb:3306"}
- {name: WORDPRESS_DB_NAME, value: {{ .Values.mariadb.database | quote }}}
- {name: WORDPRESS_DB_USER, value: {{ .Values.mariadb.user | quote }}}
- name: WORDPRESS_DB_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ $secret }}, key: db-password}}
- {name: WORDPRESS_TABLE_PREFIX, value: {{ .Values.woocommerce.tablePrefix | quote }}}
{{- range list "AUTH_KEY" "SECURE_AUTH_KEY" "LOGGED_IN_KEY" "NONCE_KEY" "AUTH_SALT" "SECURE_AUTH_SALT" "LOGGED_IN_SALT" "NONCE_SALT" }}
- name: WORDPRESS_{{ . }}
  valueFrom: {secretKeyRef: {name: {{ $secret }}, key: {{ printf "wp-%s" (. | lower | replace "_" "-") }}}}
{{- end }}
- name: WORDPRESS_CONFIG_EXTRA
  value: |
    define('WP_HOME', '{{ include "store.url" . }}');
    define('WP_SITEURL', '{{ include "store.url" . }}');
    define('DISABLE_WP_CRON', true);
{{- end -}}

{{/*
Environment of the Medusa server and worker (pass a dict: ctx, mode).
Passwords come from the store's Secret; the URLs embed them through
Kubernetes' $(VAR) expansion of the variables defined before them.
*/}}
{{- define "store.medusaEnv" -}}
{{- $ctx := .ctx -}}
{{- $secret := include "store.secret" $ctx -}}
{{- $fullname := include "store.fullname" $ctx -}}
{{- $url := include "store.url" $ctx -}}
{{- $m := $ctx.Values.medusa -}}
- name: DB_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ $secret }}, key: db-password}}
- name: REDIS_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ $secret }}, key: redis-password}}
- name: DATABASE_URL
  value: "postgres://{{ $ctx.Values.postgresql.user }}:$(DB_PASSWORD)@{{ $fullname }}-postgresql:5432/{{ $ctx.Values.postgresql.database }}?sslmode=disable"
- name: REDIS_URL
  value: "redis://:$(REDIS_PASSWORD)@{{ $fullname }}-redis:6379"
- name: JWT_SECRET
  valueFrom: {secretKeyRef: {name: {{ $secret }}, key: jwt-secret}}
- name: COOKIE_SECRET
  valueFrom: {secretKeyRef: {name: {{ $secret }}, key: cookie-secret}}
- {name: STORE_CORS, value: {{ $m.storeCors | default $url | quote }}}
- {name: ADMIN_CORS, value: {{ $m.adminCors | default $url | quote }}}
- {name: AUTH_CORS, value: {{ $m.authCors | default $url | quote }}}
- {name: MEDUSA_BACKEND_URL, value: {{ $url | quote }}}
- {name: PORT, value: {{ $m.port | quote }}}
- {name: NODE_ENV, value: production}
- {name: MEDUSA_WORKER_MODE, value: {{ .mode }}}
- {name: COOKIE_SECURE, value: {{ include "store.cookieSecure" $ctx | quote }}}
{{- if eq .mode "worker" }}
- {name: DISABLE_MEDUSA_ADMIN, value: "true"}
{{- end }}
{{- with $m.uploads.s3 }}
{{- if .bucket }}
- {name: S3_BUCKET, value: {{ .bucket | quote }}}
- {name: S3_REGION, value: {{ .region | quote }}}
- {name: S3_ENDPOINT, value: {{ .endpoint | quote }}}
- {name: S3_FILE_URL, value: {{ .fileUrl | quote }}}
- name: S3_ACCESS_KEY_ID
  valueFrom: {secretKeyRef: {name: {{ required "medusa.uploads.s3.existingSecret is required with s3.bucket" .existingSecret }}, key: access-key-id}}
- name: S3_SECRET_ACCESS_KEY
  valueFrom: {secretKeyRef: {name: {{ .existingSecret }}, key: secret-access-key}}
{{- else }}
- {name: MEDUSA_UPLOAD_DIR, value: {{ $m.uploads.mountPath | quote }}}
{{- end }}
{{- end }}
{{- end -}}

{{/* Replicas of a workload: none while the store is suspended (volumes,
Secret and release stay). Usage: include "store.replicas" (dict "ctx" . "n" 1) */}}
{{- define "store.replicas" -}}
{{- if .ctx.Values.store.suspended -}}0{{- else -}}{{ .n }}{{- end -}}
{{- end -}}

{{/* Labels of a StatefulSet's volume claim template. A claim template
cannot change once the StatefulSet exists, so they hold no version, and the
platform passes the live ones (persistence.claimLabels) on every upgrade.
Usage: include "store.claimLabels" (dict "ctx" . "labels" .Values.mariadb.persistence.claimLabels) */}}
{{- define "store.claimLabels" -}}
{{- if .labels -}}
{{ toYaml .labels }}
{{- else -}}
{{ include "store.selector" (dict "ctx" .ctx "component" "database") }}
storeplatform.io/store: {{ .ctx.Values.store.name }}
{{- end -}}
{{- end -}}

{{/* Labels of a pod template (pass a dict: ctx, component, app): the
component's labels, plus "app: <program>" so that the usual
`kubectl logs -l app=wordpress` finds the store's pods. */}}
{{- define "store.podLabels" -}}
{{ include "store.componentLabels" (dict "ctx" .ctx "component" .component) }}
app: {{ .app }}
{{- with .volume }}
storeplatform.io/volume: {{ . }}
{{- end }}
{{- end -}}

{{/* Annotations of every pod: the size's bandwidth limits, honoured by a
CNI with the bandwidth plugin. Usage: include "store.podAnnotations" . */}}
{{- define "store.podAnnotations" -}}
{{- with .Values.bandwidth.ingress }}
kubernetes.io/ingress-bandwidth: {{ . | quote }}
{{- end }}
{{- with .Values.bandwidth.egress }}
kubernetes.io/egress-bandwidth: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* The pods that mount one ReadWriteOnce volume must run on one node: each
of them carries storeplatform.io/volume: <volume> and is required next to
the others (the first one matches its own term, so it schedules anywhere).
Other access modes need nothing. Usage:
include "store.volumeAffinity" (dict "ctx" . "volume" "wp-content" "accessMode" "ReadWriteOnce") */}}
{{- define "store.volumeAffinity" -}}
{{- if eq (.accessMode | default "ReadWriteOnce") "ReadWriteOnce" -}}
affinity:
  podAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            app.kubernetes.io/instance: {{ .ctx.Release.Name }}
            storeplatform.io/volume: {{ .volume }}
{{- end -}}
{{- end -}}

{{/* "true" when the Medusa session cookie must be Secure: medusa.cookieSecure
"auto" follows ingress.tls.enabled. */}}
{{- define "store.cookieSecure" -}}
{{- $v := .Values.medusa.cookieSecure | toString -}}
{{- if eq $v "auto" -}}{{ .Values.ingress.tls.enabled | toString }}{{- else -}}{{ $v }}{{- end -}}
{{- end -}}

{{/* Where a pod runs: placement.nodeSelector and placement.tolerations, on
every pod of the store. Usage: include "store.placement" $ | nindent 6 */}}
{{- define "store.placement" -}}
{{- with .Values.placement.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.placement.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

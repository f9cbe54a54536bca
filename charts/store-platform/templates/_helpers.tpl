{{/* Name prefix of every object; cluster-scoped objects carry it too, so two releases do not collide. */}}
{{- define "sp.fullname" -}}
{{- if contains "store-platform" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-store-platform" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels every object carries. */}}
{{- define "sp.labels" -}}
app.kubernetes.io/name: store-platform
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: store-platform
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Labels of one component (dict: ctx, component). */}}
{{- define "sp.componentLabels" -}}
{{ include "sp.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Selector of one component (dict: ctx, component). */}}
{{- define "sp.selector" -}}
app.kubernetes.io/name: store-platform
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "sp.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}

{{- define "sp.apiServiceAccount" -}}{{ include "sp.fullname" . }}-api{{- end -}}
{{- define "sp.workerServiceAccount" -}}{{ include "sp.fullname" . }}-worker{{- end -}}
{{/* ClusterRoles the worker binds in each store namespace (STORE_ROLE_BINDINGS). */}}
{{- define "sp.workerStoreRole" -}}{{ include "sp.fullname" . }}-worker-store{{- end -}}
{{- define "sp.apiStoreRole" -}}{{ include "sp.fullname" . }}-api-store{{- end -}}

{{/*
The cert-manager ClusterIssuer the stores' prod profile names
(ingress.tls.clusterIssuer of charts/store/values-prod.yaml, which the worker
installs every store with); TestIssuerWarningNamesTheProfilesIssuer keeps
the two equal. The platform's values do not choose it.
*/}}
{{- define "sp.storeClusterIssuer" -}}letsencrypt-prod{{- end -}}

{{/* Settings both commands read. */}}
{{- define "sp.commonEnv" -}}
- name: TEMPORAL_ADDRESS
  value: {{ .Values.temporal.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ .Values.temporal.namespace | quote }}
- name: TEMPORAL_TASK_QUEUE
  value: {{ .Values.temporal.taskQueue | quote }}
- name: MONGODB_URI
  valueFrom:
    secretKeyRef:
      name: {{ required "mongodb.existingSecret is required: a Secret holding the MongoDB URI" .Values.mongodb.existingSecret | quote }}
      key: {{ .Values.mongodb.uriKey | quote }}
- name: MONGODB_DB
  value: {{ .Values.mongodb.database | quote }}
- name: CHART_DIR
  value: /charts/store
- name: CHART_VERSIONS_DIR
  value: /charts/versions
- name: STORE_PROFILE
  value: {{ .Values.store.profile | quote }}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: LOG_FORMAT
  value: {{ .Values.logFormat | quote }}
{{- end -}}

{{/*
Settings of TLS to Temporal, its API key and the payload codec, read from
Secrets mounted as files (sp.secretFileMounts): a key is never a plain value
or an environment variable. Both commands read them.
*/}}
{{- define "sp.secretFileEnv" -}}
{{- $tls := .Values.temporal.tls }}
{{- if $tls.secretName }}
{{- if $tls.caKey }}
- name: TEMPORAL_TLS_CA
  value: /etc/storeplatform/temporal-tls/ca.crt
{{- end }}
{{- if $tls.certKey }}
- name: TEMPORAL_TLS_CERT
  value: /etc/storeplatform/temporal-tls/tls.crt
- name: TEMPORAL_TLS_KEY
  value: /etc/storeplatform/temporal-tls/tls.key
{{- end }}
{{- end }}
{{- with $tls.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ . | quote }}
{{- end }}
{{- if .Values.temporal.apiKey.secretName }}
- name: TEMPORAL_API_KEY_FILE
  value: /etc/storeplatform/temporal-api-key/api-key
{{- end }}
{{- if .Values.payloadCodec.secretName }}
- name: PAYLOAD_CODEC_KEYS_FILE
  value: /etc/storeplatform/payload-codec/keys
{{- end }}
{{- end -}}

{{/* The read-only mounts of sp.secretFileVolumes. */}}
{{- define "sp.secretFileMounts" -}}
{{- if .Values.temporal.tls.secretName }}
- {name: temporal-tls, mountPath: /etc/storeplatform/temporal-tls, readOnly: true}
{{- end }}
{{- if .Values.temporal.apiKey.secretName }}
- {name: temporal-api-key, mountPath: /etc/storeplatform/temporal-api-key, readOnly: true}
{{- end }}
{{- if .Values.payloadCodec.secretName }}
- {name: payload-codec, mountPath: /etc/storeplatform/payload-codec, readOnly: true}
{{- end }}
{{- end -}}

{{/*
The Secrets of sp.secretFileEnv as volumes: only the keys named, under
fixed file names (a key missing from its Secret keeps the pod from
starting, rather than starting it in plaintext), readable by the pods'
group only (fsGroup of sp.podSecurity).
*/}}
{{- define "sp.secretFileVolumes" -}}
{{- $tls := .Values.temporal.tls }}
{{- if $tls.secretName }}
{{- if and (not $tls.caKey) (not $tls.certKey) }}
{{- fail "temporal.tls.secretName is set: name the CA (temporal.tls.caKey) or the client certificate (temporal.tls.certKey and keyKey) in it" }}
{{- end }}
{{- if ne (empty $tls.certKey) (empty $tls.keyKey) }}
{{- fail "temporal.tls.certKey and temporal.tls.keyKey: mTLS needs both" }}
{{- end }}
- name: temporal-tls
  secret:
    secretName: {{ $tls.secretName | quote }}
    defaultMode: 0440
    items:
      {{- with $tls.caKey }}
      - {key: {{ . | quote }}, path: ca.crt}
      {{- end }}
      {{- if $tls.certKey }}
      - {key: {{ $tls.certKey | quote }}, path: tls.crt}
      - {key: {{ $tls.keyKey | quote }}, path: tls.key}
      {{- end }}
{{- end }}
{{- with .Values.temporal.apiKey }}
{{- if .secretName }}
- name: temporal-api-key
  secret:
    secretName: {{ .secretName | quote }}
    defaultMode: 0440
    items:
      - {key: {{ .key | quote }}, path: api-key}
{{- end }}
{{- end }}
{{- with .Values.payloadCodec }}
{{- if .secretName }}
- name: payload-codec
  secret:
    secretName: {{ .secretName | quote }}
    defaultMode: 0440
    items:
      - {key: {{ .key | quote }}, path: keys}
{{- end }}
{{- end }}
{{- end -}}

{{/*
CEL of the admission policy: the namespace the expression given names
(object, namespaceObject) is the platform's and enforces Pod Security
"restricted" at the latest version.
*/}}
{{- define "sp.restrictedPlatformNamespace" -}}
{{- $l := printf "%s.metadata.labels" . -}}
has({{ . }}.metadata.labels) && {{/* one line: it is spliced into a folded YAML scalar */ -}}
'app.kubernetes.io/managed-by' in {{ $l }} && {{ $l }}['app.kubernetes.io/managed-by'] == 'storeplatform' && {{/**/ -}}
'pod-security.kubernetes.io/enforce' in {{ $l }} && {{ $l }}['pod-security.kubernetes.io/enforce'] == 'restricted' && {{/**/ -}}
(!('pod-security.kubernetes.io/enforce-version' in {{ $l }}) || {{ $l }}['pod-security.kubernetes.io/enforce-version'] == 'latest')
{{- end -}}

{{/* Pod securityContext of the "restricted" Pod Security Standard (the image's nonroot user). */}}
{{- define "sp.podSecurity" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container securityContext of "restricted". */}}
{{- define "sp.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}

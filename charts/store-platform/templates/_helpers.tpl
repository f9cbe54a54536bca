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

{{/* Pod securityContext of the "restricted" Pod Security Standard (the image's nonroot user). */}}
{{- define "sp.podSecurity" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
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

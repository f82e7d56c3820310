{{/*
Expand the name of the chart.
*/}}
{{- define "langfuse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name.
*/}}
{{- define "langfuse.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "langfuse.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "langfuse.labels" -}}
helm.sh/chart: {{ include "langfuse.chart" . }}
{{ include "langfuse.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "langfuse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "langfuse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "langfuse.serviceAccountName" -}}
{{- if .Values.langfuse.serviceAccount.create }}
{{- default (include "langfuse.fullname" .) .Values.langfuse.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.langfuse.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference for a component: repository + (component tag | shared tag | appVersion).
Usage: include "langfuse.image" (dict "image" .Values.langfuse.web.image "root" $)
*/}}
{{- define "langfuse.image" -}}
{{- $tag := .image.tag | default .root.Values.langfuse.image.tag | default .root.Chart.AppVersion -}}
{{- printf "%s:%s" .image.repository (toString $tag) -}}
{{- end }}

{{- define "langfuse.nextauthSecretName" -}}
{{- printf "%s-nextauth" (include "langfuse.fullname" .) -}}
{{- end }}

{{/*
Environment shared by web and worker.
*/}}
{{- define "langfuse.commonEnv" -}}
- name: LANGFUSE_LOG_LEVEL
  value: {{ .Values.langfuse.logging.level | quote }}
- name: LANGFUSE_LOG_FORMAT
  value: {{ .Values.langfuse.logging.format | quote }}
- name: DATABASE_HOST
  value: {{ .Values.postgresql.host | default (printf "%s-postgresql" (include "langfuse.fullname" .)) | quote }}
- name: DATABASE_PORT
  value: {{ .Values.postgresql.port | quote }}
- name: DATABASE_USERNAME
  value: {{ .Values.postgresql.auth.username | quote }}
- name: DATABASE_NAME
  value: {{ .Values.postgresql.auth.database | quote }}
{{- with .Values.postgresql.auth.existingSecret }}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.postgresql.auth.secretKeys.userPasswordKey }}
{{- end }}
- name: CLICKHOUSE_URL
  value: {{ printf "http://%s:%v" (.Values.clickhouse.host | default "clickhouse") .Values.clickhouse.httpPort | quote }}
- name: CLICKHOUSE_MIGRATION_URL
  value: {{ printf "clickhouse://%s:%v" (.Values.clickhouse.host | default "clickhouse") .Values.clickhouse.nativePort | quote }}
- name: CLICKHOUSE_USER
  value: {{ .Values.clickhouse.auth.username | quote }}
- name: REDIS_HOST
  value: {{ .Values.redis.host | default "valkey" | quote }}
- name: REDIS_PORT
  value: {{ .Values.redis.port | quote }}
- name: LANGFUSE_S3_EVENT_UPLOAD_BUCKET
  value: {{ .Values.s3.bucket | quote }}
- name: LANGFUSE_S3_EVENT_UPLOAD_REGION
  value: {{ .Values.s3.region | quote }}
{{- with .Values.s3.endpoint }}
- name: LANGFUSE_S3_EVENT_UPLOAD_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: LANGFUSE_S3_EVENT_UPLOAD_FORCE_PATH_STYLE
  value: {{ .Values.s3.forcePathStyle | quote }}
- name: SALT
  {{- if .Values.langfuse.salt.secretKeyRef.name }}
  valueFrom:
    secretKeyRef:
      name: {{ .Values.langfuse.salt.secretKeyRef.name }}
      key: {{ .Values.langfuse.salt.secretKeyRef.key }}
  {{- else }}
  value: {{ .Values.langfuse.salt.value | quote }}
  {{- end }}
{{- with .Values.langfuse.additionalEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

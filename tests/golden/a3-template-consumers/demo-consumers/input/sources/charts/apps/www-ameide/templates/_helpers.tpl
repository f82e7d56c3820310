{{- define "www-ameide.fullname" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "www-ameide.selectorLabels" -}}
app.kubernetes.io/name: www-ameide
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Cluster identity, read from whichever root key clusterValuesKey names. */}}
{{- define "www-ameide.clusterInfo" -}}
{{- $key := .Values.clusterValuesKey | default "cluster" -}}
{{- $info := index .Values $key | default dict -}}
{{- toYaml $info -}}
{{- end -}}

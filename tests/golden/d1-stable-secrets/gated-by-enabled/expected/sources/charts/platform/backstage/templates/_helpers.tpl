{{- define "backstage.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "backstage.labels" -}}
app.kubernetes.io/name: backstage
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "backstage.selectorLabels" -}}
app.kubernetes.io/name: backstage
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "backstage.image" -}}
{{- $img := printf "%s:%s" .Values.image.repository (toString .Values.image.tag) -}}
{{- with .Values.image.digest }}{{ $img = printf "%s@%s" $img . }}{{ end -}}
{{- $img -}}
{{- end -}}

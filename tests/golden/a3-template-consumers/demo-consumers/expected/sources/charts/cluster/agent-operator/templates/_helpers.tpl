{{- define "agent-operator.fullname" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "agent-operator.labels" -}}
app.kubernetes.io/name: agent-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "agent-operator.selectorLabels" -}}
app.kubernetes.io/name: agent-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "graph.fullname" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "graph.selectorLabels" -}}
app.kubernetes.io/name: graph
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "graph.labels" -}}
{{ include "graph.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- if hasKey .Values "cluster" }}
ameide.io/cluster: {{ .Values.cluster.name | quote }}
ameide.io/cluster-type: {{ .Values.cluster.type | quote }}
{{- end }}
{{- end -}}

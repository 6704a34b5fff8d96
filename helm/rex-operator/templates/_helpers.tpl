{{- define "rex-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "rex-operator.labels" -}}
app.kubernetes.io/name: rex-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "rex-operator.selector" -}}
app.kubernetes.io/name: rex-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "rex-operator.serviceAccount" -}}
{{- default (include "rex-operator.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* Exactly what the operator calls: see ClusterReconcilerTest's RBAC check. */}}
{{- define "rex-operator.rules" -}}
- apiGroups: ["rex.build"]
  resources: ["remoteexecutionclusters"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["rex.build"]
  resources: ["remoteexecutionclusters/status"]
  verbs: ["update"]
- apiGroups: [""]
  resources: ["configmaps", "secrets", "services"]
  verbs: ["get", "list", "watch", "create", "update"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "create", "update"]
- apiGroups: ["apps"]
  resources: ["statefulsets"]
  verbs: ["get", "list", "watch", "create", "update", "delete"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list", "watch", "create", "update"]
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies"]
  verbs: ["get", "list", "watch", "create", "update", "delete"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "delete"]
- apiGroups: [""]
  resources: ["persistentvolumeclaims"]
  verbs: ["get", "patch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
- apiGroups: ["cert-manager.io"]
  resources: ["certificates"]
  verbs: ["get", "create", "update"]
{{- end -}}

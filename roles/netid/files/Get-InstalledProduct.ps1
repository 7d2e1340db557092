[CmdletBinding(SupportsShouldProcess)]
param ([string]$Pattern)
# Read-only: list Programs-and-Features entries whose DisplayName matches $Pattern.
$Ansible.Changed = $false
$keys = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\*',
    'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\*'
@(Get-ItemProperty -Path $keys -ErrorAction SilentlyContinue |
    Where-Object { $_.DisplayName -match $Pattern } |
    ForEach-Object { @{ name = [string]$_.DisplayName; version = [string]$_.DisplayVersion; product_id = [string]$_.PSChildName } })

[CmdletBinding(SupportsShouldProcess)]
param ([string]$Pattern)
# Read-only: list Programs-and-Features entries whose DisplayName matches $Pattern, with what
# an unattended uninstall needs to know (Windows Installer package, quiet uninstall command).
# The one copy for every Windows role (roles/workstation_common/files).
$Ansible.Changed = $false
$keys = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\*',
    'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\*'
@(Get-ItemProperty -Path $keys -ErrorAction SilentlyContinue |
    Where-Object { $_.DisplayName -match $Pattern } |
    ForEach-Object {
        @{
            name = [string]$_.DisplayName
            version = [string]$_.DisplayVersion
            product_id = [string]$_.PSChildName
            msi = ($_.WindowsInstaller -eq 1)
            quiet_uninstall = [bool]$_.QuietUninstallString
        }
    })

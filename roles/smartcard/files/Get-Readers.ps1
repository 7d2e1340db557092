[CmdletBinding(SupportsShouldProcess)]
param ()
# Read-only: friendly names of the smart-card readers that are connected and working.
$Ansible.Changed = $false
@(Get-PnpDevice -Class SmartCardReader -PresentOnly -ErrorAction SilentlyContinue |
    Where-Object Status -eq 'OK' | ForEach-Object { [string]$_.FriendlyName })

; Inno Setup 6 script: a Windows installer for the one-folder bundle. UNTESTED here (CI and
; development run on Debian 12): see packaging/windows/README.md.
;
;   .venv\Scripts\pyinstaller --noconfirm packaging\live-transcriber.spec
;   "%ProgramFiles(x86)%\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 packaging\windows\live-transcriber.iss
;   -> dist\live-transcriber-0.1.0-setup.exe

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Live Transcriber"
#define AppExe "live-transcriber.exe"
#define Bundle "..\..\dist\live-transcriber"

[Setup]
; Keep this AppId for every release: it is how upgrades and the uninstaller find the app.
AppId={{6F1E7C1A-3B9D-4C55-9A0E-5B2F0D7C8E41}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=Live Transcriber team
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per-user install without admin rights by default; the dialog offers all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=live-transcriber-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; AppUserModelID: "io.github.livetranscriber.LiveTranscriber"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Files the app writes next to itself: none. Settings (registry/AppData), transcripts and the
; API key in Credential Manager belong to the user and stay.

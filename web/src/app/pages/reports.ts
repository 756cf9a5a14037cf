import { Component, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { ReportDefinition, ReportRun, TrackedList } from '../core/api';
import { I18N_PIPES } from '../core/i18n';
import { OrgPage } from '../ui/org-page';

const SECTIONS = ['summary', 'history', 'score', 'flags'] as const;
const FORMATS = ['csv', 'xlsx', 'parquet', 'pdf'] as const;

/** Report definitions of the organisation, their runs (failures with the reason) and files. */
@Component({
  selector: 'an-reports',
  imports: [FormsModule, ...I18N_PIPES],
  template: `
    <section class="page">
      <h1>{{ 'reports.title' | t }}</h1>
      @if (error()) { <p class="error" role="alert">{{ error() }}</p> }
      @if (auth.canWrite()) {
        <section class="card" aria-labelledby="new-report">
          <h2 id="new-report">{{ 'reports.new' | t }}</h2>
          <form class="stack" (ngSubmit)="create()">
            <label>{{ 'reports.name' | t }} <input name="name" required maxlength="120" [(ngModel)]="form.name" /></label>
            <label>{{ 'reports.list' | t }}
              <select name="list" required [(ngModel)]="form.list">
                @for (l of lists(); track l.list_id) { <option [value]="l.list_id">{{ l.name }}</option> }
              </select>
            </label>
            <fieldset>
              <legend>{{ 'reports.sections' | t }}</legend>
              @for (s of sections; track s) {
                <label class="check"><input type="checkbox" [name]="'section-' + s" [checked]="form.sections.includes(s)" (change)="toggle(s)" /> {{ 'reports.section.' + s | t }}</label>
              }
            </fieldset>
            <label>{{ 'reports.days' | t }} <input name="days" type="number" min="1" max="366" required [(ngModel)]="form.days" /></label>
            <label>{{ 'reports.format' | t }}
              <select name="format" [(ngModel)]="form.format">@for (f of formats; track f) { <option [value]="f">{{ f.toUpperCase() }}</option> }</select>
            </label>
            <label>{{ 'reports.language' | t }}
              <select name="language" [(ngModel)]="form.language"><option value="pt-BR">Português</option><option value="en">English</option></select>
            </label>
            <label>{{ 'reports.schedule' | t }} <input name="schedule" [(ngModel)]="form.schedule" placeholder="0 0 8 * * Mon" /></label>
            <button type="submit" class="primary" [disabled]="!form.name || !form.list || !form.sections.length">{{ 'reports.create' | t }}</button>
          </form>
        </section>
      }
      @for (r of reports(); track r.report_id) {
        <section class="card report" [attr.data-report]="r.name">
          <h2>{{ r.name }} <span class="badge">{{ r.spec.format.toUpperCase() }}</span> <span class="muted small">v{{ r.version }}</span></h2>
          <p class="small">{{ 'reports.period' | t: { n: r.spec.period.last_days ?? '—' } }} ·
            @if (r.schedule) { {{ 'reports.scheduled' | t: { cron: r.schedule, zone: r.time_zone } }} } @else { {{ 'reports.onDemand' | t }} }</p>
          <p class="row">
            @if (auth.canWrite()) {
              <button type="button" class="primary" data-test="run-report" (click)="run(r)">{{ 'reports.runNow' | t }}</button>
              <button type="button" class="link danger" (click)="remove(r)">{{ 'lists.delete' | t }}</button>
            }
            <button type="button" class="link" (click)="loadRuns(r)">{{ 'reports.refresh' | t }}</button>
          </p>
          <div class="table-wrap">
            <table>
              <thead><tr><th scope="col">{{ 'reports.started' | t }}</th><th scope="col">{{ 'settings.status' | t }}</th><th scope="col">{{ 'reports.files' | t }}</th></tr></thead>
              <tbody>
                @for (run of runs()[r.report_id] ?? []; track run.run_id) {
                  <tr [attr.data-status]="run.status">
                    <td>{{ run.started_at | day: true }} <span class="muted small">{{ 'reports.trigger.' + run.trigger | t }}</span></td>
                    <td><span class="badge" [class.warn]="run.status === 'failed'">{{ 'reports.status.' + run.status | t }}</span>
                      @if (run.error) { <p class="error small">{{ run.error }}</p> }</td>
                    <td>@for (f of run.files; track f.name) { <button type="button" class="link" (click)="download(f.url, f.name)">{{ f.name }}</button> }</td>
                  </tr>
                } @empty { <tr><td colspan="3" class="muted">{{ 'reports.noRuns' | t }}</td></tr> }
              </tbody>
            </table>
          </div>
        </section>
      } @empty {
        <p class="muted">{{ 'reports.none' | t }}</p>
      }
    </section>
  `,
})
export class ReportsPage extends OrgPage {
  protected readonly sections = SECTIONS;
  protected readonly formats = FORMATS;
  protected readonly reports = signal<ReportDefinition[]>([]);
  protected readonly runs = signal<Record<string, ReportRun[] | undefined>>({});
  protected readonly lists = signal<TrackedList[]>([]);
  protected form = { name: '', list: '', sections: ['summary', 'history'] as string[], days: 7, format: 'csv' as ReportDefinition['spec']['format'], language: 'pt-BR' as 'pt-BR' | 'en', schedule: '' };

  protected reload(): void {
    this.api.lists(this.org).subscribe({ next: (l) => { this.lists.set(l); this.form.list ||= l[0]?.list_id ?? ''; }, error: this.fail });
    this.api.reports(this.org).subscribe({ next: (reports) => { this.reports.set(reports); reports.forEach((r) => this.loadRuns(r)); }, error: this.fail });
  }

  protected loadRuns(report: ReportDefinition): void {
    this.api.reportRuns(this.org, report.report_id).subscribe({ next: (runs) => this.runs.update((all) => ({ ...all, [report.report_id]: runs })), error: this.fail });
  }

  protected toggle(section: string): void {
    this.form.sections = this.form.sections.includes(section) ? this.form.sections.filter((s) => s !== section) : [...this.form.sections, section];
  }

  protected create(): void {
    this.error.set(null);
    const f = this.form;
    const spec = { scope: { list: f.list }, sections: SECTIONS.filter((s) => f.sections.includes(s)), period: { last_days: Number(f.days) }, format: f.format, language: f.language };
    this.api.createReport(this.org, { name: f.name.trim(), spec, schedule: f.schedule.trim() || null, time_zone: 'America/Sao_Paulo' }).subscribe({
      next: () => { this.form.name = ''; this.reload(); },
      error: this.fail,
    });
  }

  protected run(report: ReportDefinition): void {
    this.api.runReport(this.org, report.report_id).subscribe({ next: () => this.poll(report, 30), error: this.fail });
  }

  /** Follows a run until it is no longer running. */
  private poll(report: ReportDefinition, left: number): void {
    this.api.reportRuns(this.org, report.report_id).subscribe((runs) => {
      this.runs.update((all) => ({ ...all, [report.report_id]: runs }));
      if (left > 0 && (runs.length === 0 || runs[0].status === 'running')) setTimeout(() => this.poll(report, left - 1), 1000);
    });
  }

  protected remove(report: ReportDefinition): void {
    if (!confirm(this.i18n.t('lists.confirmDelete', { name: report.name }))) return;
    this.api.deleteReport(this.org, report.report_id).subscribe({ next: () => this.reload(), error: this.fail });
  }

  protected download(url: string, name: string): void {
    this.api.download(url).subscribe({
      next: (blob) => {
        const link = document.createElement('a');
        link.href = URL.createObjectURL(blob);
        link.download = name;
        link.click();
        URL.revokeObjectURL(link.href);
      },
      error: this.fail,
    });
  }
}

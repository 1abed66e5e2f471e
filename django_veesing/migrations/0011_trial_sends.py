"""Trial sends (``TrialSend``): a campaign's text to an operator's own numbers, recorded apart."""

import django.db.models.deletion
import django_veesing.clock
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('django_veesing', '0010_opt_outs_checked'),
    ]

    operations = [
        migrations.CreateModel(
            name='TrialSend',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('phones', models.TextField(help_text='The 11-digit numbers, separated by commas.', verbose_name='numbers')),
                ('text', models.TextField(verbose_name='text as sent')),
                ('state', models.CharField(choices=[('sending', 'sending'), ('submitted', 'submitted'), ('failed', 'failed'), ('uncertain', 'uncertain (the answer was lost)')], default='sending', max_length=16, verbose_name='state')),
                ('task_id', models.CharField(blank=True, max_length=64, verbose_name='task id')),
                ('message', models.TextField(blank=True, verbose_name="provider's message")),
                ('requested_by', models.CharField(blank=True, max_length=150, verbose_name='requested by')),
                ('created_at', models.DateTimeField(default=django_veesing.clock.now, editable=False, verbose_name='created')),
                ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent at')),
                ('campaign', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='trials', to='django_veesing.campaign', verbose_name='campaign')),
            ],
            options={
                'verbose_name': 'trial send',
                'verbose_name_plural': 'trial sends',
                'ordering': ['-id'],
            },
        ),
    ]

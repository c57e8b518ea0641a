from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('jobs', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='job',
            name='worker',
            field=models.CharField(blank=True, max_length=200, verbose_name='后台进程'),
        ),
    ]
